/** The AES-256-GCM payload codec and its keys: round trips, rotation, refusals, and the key settings' errors. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Payload } from '@temporalio/common';
import { devServerArgs } from '../../src/cli/dev-server.js';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  encryptionCodecOf,
  KEY_ID_METADATA,
  PayloadDecryptionError,
} from '../../src/codec/codec.js';
import {
  EncryptionKeyError,
  loadEncryptionKeys,
  parseKeys,
  type EncryptionKey,
} from '../../src/codec/keys.js';
import { baseEnv } from '../../src/runners/base-env.js';
import { StageOutput } from '../../src/runners/output.js';
import { loadSettings } from '../../src/settings.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temporal.js';

const newKey = (): string => randomBytes(32).toString('base64');
const ring = (text: string): EncryptionKey[] => parseKeys(text, 'TOLLGATE_ENCRYPTION_KEY');
const json = (value: unknown): Payload => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(value)),
});
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString();

/** Runs `fn`, which must throw an EncryptionKeyError; returns its message after checking it never shows `secret`. */
function keyError(fn: () => unknown, secret: string): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EncryptionKeyError, `an EncryptionKeyError, got ${String(error)}`);
    assert.ok(!error.message.includes(secret), `the message does not show the value: ${error.message}`);
    return error.message;
  }
  return assert.fail('expected an EncryptionKeyError');
}

describe('EncryptionCodec', () => {
  it('round-trips payloads: metadata, data, empty and binary/null ones', async () => {
    const codec = new EncryptionCodec(ring(`k1:${newKey()}`));
    const payloads: Payload[] = [
      json({ ref: 'abc1234', env: { TOKEN: 'x' } }),
      { metadata: { encoding: Buffer.from('binary/null') } },
      { metadata: { encoding: Buffer.from('binary/plain') }, data: randomBytes(100_000) },
    ];
    const decoded = await codec.decode(await codec.encode(payloads));
    assert.equal(decoded.length, 3);
    for (const [i, payload] of payloads.entries()) {
      assert.deepEqual(
        Object.fromEntries(Object.entries(decoded[i]!.metadata ?? {}).map(([k, v]) => [k, text(v)])),
        Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, text(v)])),
      );
      assert.equal(Buffer.from(decoded[i]!.data ?? []).compare(Buffer.from(payload.data ?? [])), 0);
    }
  });

  it('marks encrypted payloads with the encoding and key id, hides the data, and uses a fresh IV each time', async () => {
    const codec = new EncryptionCodec(ring(`k1:${newKey()}`));
    const [a, b] = await codec.encode([json('marker-value-123'), json('marker-value-123')]);
    assert.equal(text(a!.metadata?.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(a!.metadata?.[KEY_ID_METADATA]), 'k1');
    assert.deepEqual(Object.keys(a!.metadata ?? {}).sort(), ['encoding', KEY_ID_METADATA].sort());
    assert.ok(!text(a!.data).includes('marker-value-123'));
    assert.ok(!text(a!.data).includes('json/plain'), 'the original metadata is inside the ciphertext');
    assert.notEqual(Buffer.from(a!.data!).toString('hex'), Buffer.from(b!.data!).toString('hex'));
  });

  it('passes payloads that are not encrypted through decode unchanged', async () => {
    const codec = new EncryptionCodec(ring(`k1:${newKey()}`));
    const plain = json({ written: 'before encryption was on' });
    assert.deepEqual(await codec.decode([plain]), [plain]);
  });

  it('decodes a payload encrypted with k1 after rotating to k2,k1, and encrypts new ones with k2', async () => {
    const k1 = newKey();
    const old = await new EncryptionCodec(ring(`k1:${k1}`)).encode([json('old secret')]);
    const rotated = new EncryptionCodec(ring(`k2:${newKey()},k1:${k1}`));
    assert.deepEqual(rotated.keyIds, ['k2', 'k1']);
    const [decoded] = await rotated.decode(old);
    assert.equal(text(decoded!.data), '"old secret"');
    const [fresh] = await rotated.encode([json('new')]);
    assert.equal(text(fresh!.metadata?.[KEY_ID_METADATA]), 'k2');
  });

  it('fails a payload whose key id is not loaded, naming the id and the loaded keys', async () => {
    const encrypted = await new EncryptionCodec(ring(`k1:${newKey()}`)).encode([json('x')]);
    const other = new EncryptionCodec(ring(`k3:${newKey()},k2:${newKey()}`));
    await assert.rejects(other.decode(encrypted), (error: Error) => {
      assert.ok(error instanceof PayloadDecryptionError);
      assert.match(error.message, /key id "k1", which is not loaded \(loaded: k3, k2\)/);
      assert.match(error.message, /TOLLGATE_ENCRYPTION_KEY/);
      return true;
    });
  });

  it('fails tampered ciphertext, a tampered tag, truncated data and a different key under the same id', async () => {
    const key = newKey();
    const codec = new EncryptionCodec(ring(`k1:${key}`));
    const [encrypted] = await codec.encode([json({ amount: 100 })]);
    const flip = (index: number): Payload => {
      const data = Buffer.from(encrypted!.data!);
      data[index] = data[index]! ^ 0x01;
      return { ...encrypted!, data };
    };
    const authentication = /key id "k1" failed authentication: its data was altered/;
    await assert.rejects(codec.decode([flip(20)]), authentication);
    await assert.rejects(codec.decode([flip(encrypted!.data!.length - 1)]), authentication);
    await assert.rejects(codec.decode([flip(0)]), authentication, 'the IV is authenticated too');
    await assert.rejects(
      codec.decode([{ ...encrypted!, data: encrypted!.data!.subarray(0, 20) }]),
      /shorter than its IV and tag: it was truncated/,
    );
    await assert.rejects(new EncryptionCodec(ring(`k1:${newKey()}`)).decode([encrypted!]), authentication);
  });

  it('fails an encrypted payload without a key id', async () => {
    const codec = new EncryptionCodec(ring(`k1:${newKey()}`));
    const [encrypted] = await codec.encode([json(1)]);
    await assert.rejects(
      codec.decode([{ ...encrypted!, metadata: { encoding: encrypted!.metadata!.encoding! } }]),
      /no encryption-key-id metadata/,
    );
  });
});

describe('encryption keys', () => {
  it('reads <id>:<base64> entries, the first one encrypting, separated by commas or newlines', () => {
    const [a, b, c] = [newKey(), newKey(), newKey()];
    const keys = ring(` k3:${a} ,k2:${b}\nk1:${c}\n`);
    assert.deepEqual(
      keys.map((k) => k.id),
      ['k3', 'k2', 'k1'],
    );
    assert.equal(keys[0]!.key.toString('base64'), a);
  });

  it('gives a bare key the first 8 hex digits of its SHA-256 as id', () => {
    const key = newKey();
    const [entry] = ring(key);
    assert.equal(
      entry!.id,
      createHash('sha256').update(Buffer.from(key, 'base64')).digest('hex').slice(0, 8),
    );
  });

  it('refuses a key of the wrong length, naming the variable, the entry and the fix', () => {
    const short = randomBytes(16).toString('base64');
    const message = keyError(() => ring(`k2:${newKey()},k1:${short}`), short);
    assert.match(
      message,
      /^TOLLGATE_ENCRYPTION_KEY: entry 2 of 2 \(id "k1"\) decodes to 16 bytes; AES-256 needs 32/,
    );
    assert.match(message, /openssl rand -base64 32/);
  });

  it('refuses a value that is not base64', () => {
    const bad = 'this-is-not base64!!';
    const message = keyError(() => ring(`k1:${bad}`), bad);
    assert.match(message, /^TOLLGATE_ENCRYPTION_KEY: entry 1 of 1 \(id "k1"\) is not base64/);
    assert.match(message, /openssl rand -base64 32/);
  });

  it('refuses a duplicate key id', () => {
    const second = newKey();
    const message = keyError(() => ring(`k1:${newKey()},k1:${second}`), second);
    assert.match(message, /entry 2 of 2 repeats key id "k1" of entry 1: give each key its own id/);
  });

  it('refuses an invalid key id without echoing the entry', () => {
    const key = newKey();
    const message = keyError(() => ring(`${key}:${newKey()}`), key);
    assert.match(message, /entry 1 of 1 has an invalid key id/);
  });

  it('refuses an empty value rather than running unencrypted', () => {
    const message = keyError(() => loadEncryptionKeys({ TOLLGATE_ENCRYPTION_KEY: ' , ' }), 'x'.repeat(44));
    assert.match(
      message,
      /^TOLLGATE_ENCRYPTION_KEY is set but holds no key: unset it to run without encryption/,
    );
  });

  it('loads keys from TOLLGATE_ENCRYPTION_KEY_FILE, skipping comments and blank lines', () => {
    const [a, b] = [newKey(), newKey()];
    const file = join(tempDir('keys'), 'keys');
    writeFileSync(file, `# rotated 2025-06-01\nk2:${a}\n\n# the old one\nk1:${b}\n`);
    const keys = loadEncryptionKeys({ TOLLGATE_ENCRYPTION_KEY_FILE: file });
    assert.deepEqual(
      keys?.map((k) => [k.id, k.key.toString('base64')]),
      [
        ['k2', a],
        ['k1', b],
      ],
    );
  });

  it('names the key file in errors: unreadable, or a bad entry in it', () => {
    const dir = tempDir('keys');
    const missing = join(dir, 'missing');
    assert.match(
      keyError(() => loadEncryptionKeys({ TOLLGATE_ENCRYPTION_KEY_FILE: missing }), 'x'.repeat(44)),
      new RegExp(`^TOLLGATE_ENCRYPTION_KEY_FILE=${missing} cannot be read \\(ENOENT\\)`),
    );
    const file = join(dir, 'keys');
    const short = randomBytes(31).toString('base64');
    writeFileSync(file, `k1:${short}\n`);
    assert.match(
      keyError(() => loadEncryptionKeys({ TOLLGATE_ENCRYPTION_KEY_FILE: file }), short),
      new RegExp(
        `^TOLLGATE_ENCRYPTION_KEY_FILE \\(${file}\\): entry 1 of 1 \\(id "k1"\\) decodes to 31 bytes`,
      ),
    );
  });

  it('refuses both variables at once', () => {
    const key = newKey();
    const message = keyError(
      () => loadEncryptionKeys({ TOLLGATE_ENCRYPTION_KEY: key, TOLLGATE_ENCRYPTION_KEY_FILE: '/x' }),
      key,
    );
    assert.match(message, /both TOLLGATE_ENCRYPTION_KEY and TOLLGATE_ENCRYPTION_KEY_FILE are set: keep one/);
  });

  it('loadSettings builds the data converter from the keys, and none without them', () => {
    const settings = loadSettings({ TOLLGATE_ENCRYPTION_KEY: `k2:${newKey()},k1:${newKey()}` });
    assert.deepEqual(encryptionCodecOf(settings.dataConverter)?.keyIds, ['k2', 'k1']);
    assert.equal(loadSettings({}).dataConverter, undefined);
    assert.throws(() => loadSettings({ TOLLGATE_ENCRYPTION_KEY: 'k1:short' }), EncryptionKeyError);
  });

  it('a stage process does not inherit the encryption key from the worker', () => {
    const env = baseEnv({ TOLLGATE_ENCRYPTION_KEY: 'k1:abc', TOLLGATE_ENCRYPTION_KEY_FILE: '/keys' });
    assert.equal(env.TOLLGATE_ENCRYPTION_KEY, undefined);
    assert.equal(env.TOLLGATE_ENCRYPTION_KEY_FILE, undefined);
  });
});

describe('secret redaction', () => {
  it('redacts a multi-line secret that reaches the output in two chunks split at a newline', async () => {
    const secret = `-----BEGIN PRIVATE KEY-----\n${newKey()}\n${newKey()}\n-----END PRIVATE KEY-----`;
    const output = new StageOutput(join(tempDir('redact'), 'stage.log'), { TLS_KEY: secret });
    const lines = secret.split('\n');
    output.write(`${lines.slice(0, 2).join('\n')}\n`);
    output.write(`${lines.slice(2).join('\n')}\n`);
    const tail = output.tail();
    await output.close();
    for (const line of lines.slice(1, 3)) assert.ok(!tail.includes(line), 'no line of the key in the tail');
  });
});

describe('the CLI with encryption settings', () => {
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, TEMPORAL_ADDRESS: '127.0.0.1:1' };

  it('a bad key stops a command before it connects: exit 2, one line naming the variable, not the key', async () => {
    const short = randomBytes(24).toString('base64');
    const result = await runCli(['history'], { ...base, TOLLGATE_ENCRYPTION_KEY: `k1:${short}` });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(
      result.stderr,
      /^tollgate: TOLLGATE_ENCRYPTION_KEY: entry 1 of 1 \(id "k1"\) decodes to 24 bytes/,
    );
    assert.ok(!result.stderr.includes(short));
  });

  it('codec-server without keys exits 2 and says how to set them', async () => {
    const result = await runCli(['codec-server'], base);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /the codec server needs the encryption keys: set TOLLGATE_ENCRYPTION_KEY/);
  });

  it('tollgate dev passes the codec endpoint to the dev server only when it has one', () => {
    const options = { home: '/h', port: 7233, uiPort: 8233, detach: false };
    const args = devServerArgs({ ...options, codecEndpoint: 'http://127.0.0.1:8081' });
    assert.deepEqual(
      args.slice(args.indexOf('--ui-codec-endpoint'), args.indexOf('--ui-codec-endpoint') + 2),
      ['--ui-codec-endpoint', 'http://127.0.0.1:8081'],
    );
    assert.ok(!devServerArgs(options).includes('--ui-codec-endpoint'));
  });
});
