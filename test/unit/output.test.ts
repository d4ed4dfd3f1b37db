/** Stage output: redaction (also across chunks), the bounded log tail, and multi-byte text. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { LOG_TAIL_BYTES } from '../../src/constants.js';
import { redact, StageOutput, tail } from '../../src/runners/output.js';

const SECRET = 'sk_test_51Hx9QfakeFAKEfake';

/** A StageOutput writing into its own temp dir, removed when the test ends. */
function collect(t: TestContext, secrets: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-output-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const chunks: string[] = [];
  const output = new StageOutput(
    join(dir, 'stage.log'),
    secrets,
    (line) => lines.push(line),
    (chunk) => chunks.push(chunk),
  );
  const log = async (): Promise<string> => {
    await output.close();
    return readFileSync(output.logPath, 'utf8');
  };
  return { output, lines, chunks, log };
}

/** Checks the tail contract against the text it was cut from. */
function assertTailOf(text: string, cut: string, maxBytes = LOG_TAIL_BYTES): void {
  assert.ok(Buffer.byteLength(cut, 'utf8') <= maxBytes, `tail is ${Buffer.byteLength(cut, 'utf8')} bytes`);
  assert.ok(text.endsWith(cut), 'tail is a suffix of the text');
  assert.ok(!cut.includes('\uFFFD'), 'no broken character');
}

function manyLines(count: number, line: (i: number) => string): string {
  return Array.from({ length: count }, (_, i) => `${line(i)}\n`).join('');
}

void test('redact replaces every occurrence of each secret', () => {
  const text = `key=${SECRET} again ${SECRET}; hook=whsec_abcdef`;
  assert.equal(
    redact(text, { STRIPE_API_KEY: SECRET, STRIPE_WEBHOOK_SECRET: 'whsec_abcdef' }),
    'key=[REDACTED] again [REDACTED]; hook=[REDACTED]',
  );
});

void test('redact leaves values shorter than 4 characters alone', () => {
  assert.equal(
    redact('pin=123 flag=1 x=abc', { PIN: '123', FLAG: '1', X: 'abc', EMPTY: '' }),
    'pin=123 flag=1 x=abc',
  );
  assert.equal(redact('pin=1234', { PIN: '1234' }), 'pin=[REDACTED]');
});

void test('redact removes a secret whole even when a shorter secret is part of it', () => {
  const secrets = { PREFIX: 'tok1', TOKEN: 'tok1-extended-secret' };
  const out = redact('token=tok1-extended-secret prefix=tok1', secrets);
  assert.equal(out, 'token=[REDACTED] prefix=[REDACTED]');
  assert.ok(!out.includes('extended-secret'));
});

void test('a secret split across two chunks is still redacted in the log, the tail and the callbacks', async (t) => {
  const { output, lines, chunks, log } = collect(t, { STRIPE_API_KEY: SECRET });
  output.write('first line\nkey=');
  output.write(SECRET.slice(0, 9));
  output.write(`${SECRET.slice(9)} done\n`);
  const tailText = output.tail();
  const logText = await log();
  for (const [where, text] of [
    ['log', logText],
    ['tail', tailText],
    ['onLine', lines.join('\n')],
    ['onOutput', chunks.join('')],
  ] as const) {
    assert.ok(
      !text.includes(SECRET.slice(0, 9)) && !text.includes(SECRET.slice(9)),
      `${where} leaks part of the secret: ${text}`,
    );
    assert.ok(text.includes('key=[REDACTED] done'), `${where} shows the redacted line: ${text}`);
  }
  assert.equal(logText, 'first line\nkey=[REDACTED] done\n');
});

void test('a secret in an unfinished last line is redacted when the output is flushed', async (t) => {
  const { output, log } = collect(t, { STRIPE_API_KEY: SECRET });
  output.write(`exit with key=${SECRET.slice(0, 5)}`);
  output.write(SECRET.slice(5));
  assert.equal(output.tail(), 'exit with key=[REDACTED]\n');
  assert.equal(await log(), 'exit with key=[REDACTED]\n');
});

void test('short secret values are not redacted from the log', async (t) => {
  const { output, log } = collect(t, { PIN: '42', REGION: 'eu' });
  output.write('answer 42 in eu\n');
  assert.equal(await log(), 'answer 42 in eu\n');
});

void test('tail returns short text unchanged', () => {
  assert.equal(tail('one\ntwo\n'), 'one\ntwo\n');
  assert.equal(tail(''), '');
});

void test('tail is at most 4096 bytes, a suffix, and starts at a line boundary', () => {
  const text = manyLines(800, (i) => `line ${i} ${'x'.repeat(i % 53)}`);
  assert.ok(Buffer.byteLength(text) > 3 * LOG_TAIL_BYTES);
  for (let extra = 0; extra < 60; extra++) {
    // Moves the cut through every position of a line, including exactly at a line start.
    const shifted = text + manyLines(1, () => 'y'.repeat(extra));
    const cut = tail(shifted);
    assertTailOf(shifted, cut);
    assert.equal(
      shifted[shifted.length - cut.length - 1],
      '\n',
      `starts at a line boundary (extra=${extra})`,
    );
    assert.ok(Buffer.byteLength(cut) > LOG_TAIL_BYTES - 120, 'keeps all but the partial first line');
  }
});

void test('tail never breaks multi-byte characters, with or without line breaks', () => {
  const lines = manyLines(400, (i) => `${i}: ${'€'.repeat(i % 29)}${'😀'.repeat(i % 5)}ü`);
  const oneLine = `${'€'.repeat(3000)}${'😀'.repeat(1000)}`;
  for (let extra = 0; extra < 8; extra++) {
    // Every byte offset within a 2-, 3- and 4-byte character lands on the cut for some `extra`.
    const pad = 'a'.repeat(extra);
    for (const text of [lines + pad, oneLine + pad, `${'€'.repeat(2000)}${pad}`]) {
      const cut = tail(text);
      assertTailOf(text, cut);
      assert.ok(Buffer.byteLength(cut) >= LOG_TAIL_BYTES - 200, 'keeps nearly the whole budget');
    }
  }
  // Without a line break only the broken character goes: at most 3 bytes short of the budget.
  const cut = tail(`${'€'.repeat(2000)}a`);
  assert.ok(Buffer.byteLength(cut) >= LOG_TAIL_BYTES - 3);
});

void test("the stage output's tail stays within 4096 bytes and ends with the latest line", async (t) => {
  const { output, log } = collect(t, { STRIPE_API_KEY: SECRET });
  let written = '';
  for (let i = 0; i < 2000; i++) {
    const line = `step output ${i} €😀 ${i % 10 === 0 ? SECRET : ''}\n`;
    written += line;
    // Uneven chunks, so lines and characters straddle chunk boundaries.
    output.write(line.slice(0, 7));
    output.write(line.slice(7));
  }
  output.note('[tollgate] done');
  const cut = output.tail();
  const logText = await log();
  assert.equal(
    logText,
    redact(written, { STRIPE_API_KEY: SECRET }) + '[tollgate] done\n',
    'the log keeps everything, redacted',
  );
  assertTailOf(logText, cut);
  assert.equal(logText[logText.length - cut.length - 1], '\n', 'starts at a line boundary');
  assert.ok(cut.endsWith('[tollgate] done\n'));
  assert.ok(!cut.includes(SECRET));
  assert.equal(output.latestLine(), '[tollgate] done');
});
