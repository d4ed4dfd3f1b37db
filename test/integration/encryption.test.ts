/**
 * Payload encryption and secrets against the real dev server: what the server stores when the codec
 * is on (nothing readable), after a key rotation (still readable), with it off (no secret values),
 * and the codec server the UI and the Temporal CLI decode through.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Client, WorkflowFailedError } from '@temporalio/client';
import type { DataConverter, Payload } from '@temporalio/common';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { encryptionCodecOf, encryptionDataConverter, type EncryptionCodec } from '../../src/codec/codec.js';
import { decodeSummaries, profileFromHistory } from '../../src/cli/profile.js';
import { parseKeys } from '../../src/codec/keys.js';
import { startCodecServer } from '../../src/codec/server.js';
import type { ReleaseInput, ReleaseResult, StagePlan, StageResult } from '../../src/types.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { pipelineStages, releaseInput, shStage } from '../support/stages.js';
import {
  createTestWorker,
  startTestServer,
  temporalBinary,
  tempDir,
  uniqueIds,
} from '../support/temporal.js';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestServer();
});
after(async () => {
  await env?.teardown();
});

const newKey = (): string => randomBytes(32).toString('base64');
const converter = (keys: string): DataConverter => encryptionDataConverter(parseKeys(keys, 'test keys'));
const codecOf = (dataConverter: DataConverter): EncryptionCodec => encryptionCodecOf(dataConverter)!;
const utf8 = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString('utf8');

/** A client on the test server; with a data converter it encrypts and decrypts like the CLI's. */
function clientWith(dataConverter?: DataConverter): Client {
  return new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter });
}

/** Runs a release to its end on a fresh worker with the client's data converter; returns its id and result. */
async function runRelease(options: {
  label: string;
  stages: Record<string, StagePlan>;
  until: string;
  dataConverter: DataConverter;
}): Promise<{ workflowId: string; result: ReleaseResult }> {
  const dir = tempDir(options.label);
  const { taskQueue, workflowId } = uniqueIds(options.label);
  const worker = await createTestWorker(
    env,
    taskQueue,
    join(dir, 'home'),
    {},
    { dataConverter: options.dataConverter },
  );
  const result = await worker.runUntil(
    clientWith(options.dataConverter).workflow.execute<ReleaseWorkflow>('releasePipeline', {
      taskQueue,
      workflowId,
      args: [releaseInput(dir, pipelineStages(options.stages), { until: options.until })],
    }),
  );
  return { workflowId, result };
}

/** The raw history as the server stores it, read by a client without any codec. */
function rawHistory(workflowId: string): Promise<History> {
  return env.client.workflow.getHandle(workflowId).fetchHistory();
}

/**
 * Every text a reader of the raw history could see: its proto JSON (`temporal workflow show
 * --output json`), every base64 value in it decoded, and every string and byte field of the
 * proto objects as UTF-8.
 */
function historyTexts(history: History): string[] {
  const json = historyToJSON(history);
  const texts = [json, JSON.stringify(history)];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      texts.push(value);
      if (/^[A-Za-z0-9+/]{4,}={0,2}$/.test(value)) texts.push(Buffer.from(value, 'base64').toString('utf8'));
    } else if (value instanceof Uint8Array) {
      texts.push(utf8(value));
    } else if (value && typeof value === 'object') {
      for (const child of Object.values(value)) walk(child);
    }
  };
  walk(JSON.parse(json));
  walk(history);
  return texts;
}

/** Every payload in the history with where it sits (`...searchAttributes.indexedFields.X`). */
function payloadsOf(history: History): { path: string; payload: Payload }[] {
  const found: { path: string; payload: Payload }[] = [];
  const walk = (value: unknown, path: string): void => {
    if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
    const metadata = (value as Payload).metadata;
    if (metadata && typeof metadata === 'object' && metadata.encoding instanceof Uint8Array) {
      found.push({ path, payload: value });
      return;
    }
    for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`);
  };
  walk(history.events, 'events');
  return found;
}

/** The first payload of each event `pick` finds one in, through `codec`, parsed as JSON. */
async function decodedEventPayloads<T>(
  history: History,
  codec: EncryptionCodec,
  pick: (event: NonNullable<History['events']>[number]) => Payload[] | null | undefined,
): Promise<(T | undefined)[]> {
  const found = (history.events ?? []).map(pick).filter((p): p is Payload[] => !!p?.length);
  assert.ok(found.length > 0, 'the history has such events');
  const decoded = await Promise.all(found.map((payloads) => codec.decode(payloads.slice(0, 1))));
  // An activity that returns nothing has a binary/null payload without data.
  return decoded.map(([payload]) =>
    payload?.data?.length ? (JSON.parse(utf8(payload.data)) as T) : undefined,
  );
}

describe('payload encryption', () => {
  it('stores every payload of a release encrypted: the marker is nowhere in the raw history, search attributes (app, commit) stay plain, a client with the key reads it', async () => {
    const dataConverter = converter(`k1:${newKey()}`);
    const marker = `tollgate-marker-${randomUUID()}`;
    const echo = shStage('test-suite', 'echo "releasing with $MARKER_VALUE"', {
      env: { MARKER_VALUE: marker },
    });
    const { workflowId, result } = await runRelease({
      label: 'encrypted',
      stages: { 'test-suite': echo },
      until: 'test-suite',
      dataConverter,
    });
    assert.equal(result.outcome, 'succeeded', 'a client with the key reads the result');

    const history = await rawHistory(workflowId);
    const leaks = historyTexts(history).filter((t) => t.includes(marker));
    assert.deepEqual(leaks, [], 'the marker is not readable in the raw history');

    const payloads = payloadsOf(history);
    const plain = payloads.filter(({ payload }) => utf8(payload.metadata!.encoding) !== 'binary/encrypted');
    assert.ok(payloads.length > plain.length, 'the history holds encrypted payloads');
    assert.deepEqual(
      plain.filter(({ path }) => !/\.searchAttributes\.indexedFields\.Tollgate\w+$/.test(path)),
      [],
      'only search attributes are plain (Temporal never passes them through a codec)',
    );
    const commit = result.status.source.commit;
    assert.match(commit, /^[0-9a-f]{40}$/);
    assert.ok(
      plain.some(({ payload }) => utf8(payload.data) === JSON.stringify(commit)),
      'the full commit SHA is readable as TollgateRevision',
    );

    // The marker really was in the history: the run's input and the stage's log tail, encrypted.
    const codec = codecOf(dataConverter);
    const [input] = await decodedEventPayloads<ReleaseInput>(
      history,
      codec,
      (e) => e.workflowExecutionStartedEventAttributes?.input?.payloads,
    );
    assert.equal(input?.stages.find((s) => s.name === 'test-suite')?.env.MARKER_VALUE, marker);
    const stages = await decodedEventPayloads<StageResult>(
      history,
      codec,
      (e) => e.activityTaskCompletedEventAttributes?.result?.payloads,
    );
    assert.match(
      stages.find((r) => r?.name === 'test-suite')?.logTail ?? '',
      new RegExp(`releasing with ${marker}`),
    );
  });

  it('reads a history written with k1 through a client keyed k2,k1; a client keyed k2 alone names k1 as missing', async () => {
    const k1 = `k1:${newKey()}`;
    const marker = `tollgate-rotation-${randomUUID()}`;
    const echo = shStage('quick-health-check', 'echo "$MARKER_VALUE"', { env: { MARKER_VALUE: marker } });
    const { workflowId } = await runRelease({
      label: 'rotation',
      stages: { 'quick-health-check': echo },
      until: 'quick-health-check',
      dataConverter: converter(k1),
    });

    const rotated = converter(`k2:${newKey()},${k1}`);
    const result = await clientWith(rotated).workflow.getHandle<ReleaseWorkflow>(workflowId).result();
    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.status.stages['quick-health-check']?.state, 'succeeded');
    const history = await rawHistory(workflowId);
    const [input] = await decodedEventPayloads<ReleaseInput>(
      history,
      codecOf(rotated),
      (e) => e.workflowExecutionStartedEventAttributes?.input?.payloads,
    );
    assert.equal(input?.stages[0]?.env.MARKER_VALUE, marker);

    await assert.rejects(
      clientWith(converter(`k2:${newKey()}`))
        .workflow.getHandle(workflowId)
        .result(),
      /key id "k1", which is not loaded \(loaded: k2\)/,
    );
  });

  it('keeps a failing stage’s command line out of the raw history', async () => {
    const dataConverter = converter(`k1:${newKey()}`);
    const marker = `tollgate-argv-${randomUUID()}`;
    const dir = tempDir('encrypted-fail');
    const { taskQueue, workflowId } = uniqueIds('encrypted-fail');
    const worker = await createTestWorker(env, taskQueue, join(dir, 'home'), {}, { dataConverter });
    const failing = shStage('test-suite', `echo ${marker}; exit 1`);
    await worker.runUntil(
      clientWith(dataConverter)
        .workflow.execute<ReleaseWorkflow>('releasePipeline', {
          taskQueue,
          workflowId,
          args: [releaseInput(dir, pipelineStages({ 'test-suite': failing }), { until: 'test-suite' })],
        })
        .catch((error: unknown) => {
          assert.ok(error instanceof WorkflowFailedError);
          // With the key, the client reads the real failure message back.
          assert.match(error.cause?.message ?? '', /stage test-suite failed/);
        }),
    );
    const leaks = historyTexts(await rawHistory(workflowId)).filter((t) => t.includes(marker));
    assert.deepEqual(leaks, [], 'the marker is not readable in the raw history');
  });

  it('after the rotation, new runs are written with k2 only', async () => {
    const rotated = converter(`k2:${newKey()},k1:${newKey()}`);
    const { workflowId, result } = await runRelease({
      label: 'rotated',
      stages: {},
      until: 'quick-health-check',
      dataConverter: rotated,
    });
    assert.equal(result.outcome, 'succeeded');
    const keyIds = payloadsOf(await rawHistory(workflowId))
      .map(({ payload }) => payload.metadata?.['encryption-key-id'])
      .filter((id) => id !== undefined)
      .map(utf8);
    assert.ok(keyIds.length > 0);
    assert.deepEqual([...new Set(keyIds)], ['k2']);

    // --profile reads stage names from the activity summaries, which are encrypted payloads too.
    const events = (await rawHistory(workflowId)).events ?? [];
    assert.deepEqual(
      profileFromHistory(events).stages.map((s) => s.stage),
      ['prepareSource', 'runStage', 'recordAudit', 'closeWorkspace'],
      'without the key, only the activity type is readable',
    );
    await decodeSummaries(events, rotated.payloadCodecs ?? []);
    const commit = result.status.source.commit.slice(0, 12);
    assert.deepEqual(
      profileFromHistory(events).stages.map((s) => s.stage),
      [`check out ${commit}`, 'quick-health-check', 'audit trail', 'remove checkout'],
    );
  });
});

describe('secrets without encryption', () => {
  const secrets = {
    DEPLOY_TOKEN: `dt-${randomUUID()}`,
    SIGNING_KEY: `sk-${randomBytes(24).toString('hex')}`,
    WEBHOOK_SECRET: `whsec_${randomBytes(20).toString('hex')}`,
    TLS_KEY: `-----BEGIN PRIVATE KEY-----\n${randomBytes(30).toString('base64')}\n${randomBytes(30).toString('base64')}\n-----END PRIVATE KEY-----`,
  };
  /** The values, and each line of a multi-line one (a leaked line is a leak too). */
  const needles = Object.values(secrets).flatMap((value) => [
    value,
    ...value.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----')),
  ]);

  /** Everything of a run a reader of the server can get without a codec: history, memo, search attributes, the status query. */
  async function visibleTexts(workflowId: string, status: unknown): Promise<string[]> {
    const description = await env.client.workflow.getHandle(workflowId).describe();
    return [
      ...historyTexts(await rawHistory(workflowId)),
      JSON.stringify(description.memo ?? {}),
      JSON.stringify(description.searchAttributes),
      JSON.stringify(description.raw),
      JSON.stringify(status),
    ];
  }

  it('keeps secret values that stages print out of the history, memo, search attributes and status', async () => {
    const dir = tempDir('secrets');
    const { taskQueue, workflowId } = uniqueIds('secrets');
    // stdout and stderr; a value written in two pieces; a multi-line value; a last line without a newline.
    const health = shStage(
      'quick-health-check',
      `printf %s "$DEPLOY_TOKEN" > "${dir}/seen-token"; echo "token=$DEPLOY_TOKEN"; echo "signing with $SIGNING_KEY" >&2`,
      { secrets: ['DEPLOY_TOKEN', 'SIGNING_KEY'] },
    );
    const tests = shStage(
      'test-suite',
      [
        'head=$(printf %s "$WEBHOOK_SECRET" | cut -c1-12); rest=$(printf %s "$WEBHOOK_SECRET" | cut -c13-)',
        'printf "webhook %s" "$head"; sleep 0.3; printf "%s\\n" "$rest"',
        'printf "%s\\n" "$TLS_KEY"',
        'printf "last %s" "$WEBHOOK_SECRET"',
      ].join('; '),
      { secrets: ['WEBHOOK_SECRET', 'TLS_KEY'] },
    );
    const worker = await createTestWorker(env, taskQueue, join(dir, 'home'), { secretSource: secrets });
    const status = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
        taskQueue,
        workflowId,
        args: [
          releaseInput(dir, pipelineStages({ 'quick-health-check': health, 'test-suite': tests }), {
            until: 'test-suite',
          }),
        ],
      });
      assert.equal((await handle.result()).outcome, 'succeeded');
      return handle.query(statusQuery);
    });
    assert.equal(
      readFileSync(join(dir, 'seen-token'), 'utf8'),
      secrets.DEPLOY_TOKEN,
      'the stage got the secret',
    );

    const texts = await visibleTexts(workflowId, status);
    for (const needle of needles) {
      assert.deepEqual(
        texts.filter((t) => t.includes(needle)),
        [],
        `a secret (${needle.slice(0, 6)}…) is not visible`,
      );
    }
    // The output did reach the history, redacted: the log tails.
    const joined = texts.join('\n');
    assert.match(joined, /token=\[REDACTED\]/);
    assert.match(joined, /signing with \[REDACTED\]/);
    assert.match(joined, /webhook \[REDACTED\]/);
    assert.match(joined, /last \[REDACTED\]/);
  });

  it('keeps a failing stage’s printed secret out of its failure, the run’s failure and status', async () => {
    const dir = tempDir('secrets-fail');
    const failing = shStage('test-suite', 'echo "calling the API with $DEPLOY_TOKEN"; exit 1', {
      secrets: ['DEPLOY_TOKEN'],
    });
    const { taskQueue, workflowId } = uniqueIds('secrets-fail');
    const worker = await createTestWorker(env, taskQueue, join(dir, 'home'), { secretSource: secrets });
    const status = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<ReleaseWorkflow>('releasePipeline', {
        taskQueue,
        workflowId,
        args: [releaseInput(dir, pipelineStages({ 'test-suite': failing }), { until: 'test-suite' })],
      });
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.match(String(error.cause?.message), /stage test-suite failed/);
        return true;
      });
      return handle.query(statusQuery);
    });
    const texts = await visibleTexts(workflowId, status);
    for (const needle of needles) {
      assert.deepEqual(
        texts.filter((t) => t.includes(needle)),
        [],
        `a secret (${needle.slice(0, 6)}…) is not visible`,
      );
    }
    assert.match(
      texts.join('\n'),
      /calling the API with \[REDACTED\]/,
      'the failure carries the redacted tail',
    );
  });
});

describe('the codec server', () => {
  const ORIGIN = 'http://localhost:8233';
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  const unb64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString('utf8');
  type JsonPayloads = { payloads: { metadata: Record<string, string>; data?: string }[] };

  let server: Awaited<ReturnType<typeof startCodecServer>>;
  let dataConverter: DataConverter;
  before(async () => {
    dataConverter = converter(`k2:${newKey()},k1:${newKey()}`);
    server = await startCodecServer({
      codec: codecOf(dataConverter),
      origins: [ORIGIN],
      host: '127.0.0.1',
      port: 0,
    });
  });
  after(async () => {
    await server?.close();
  });

  const post = (path: string, body: string): Promise<Response> =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN, 'x-namespace': 'default' },
      body,
    });

  it('POST /encode then /decode round-trips payloads in proto3 JSON', async () => {
    const request: JsonPayloads = {
      payloads: [
        { metadata: { encoding: b64('json/plain') }, data: b64('{"ref":"abc1234"}') },
        { metadata: { encoding: b64('binary/null') } },
      ],
    };
    const encodedResponse = await post('/encode', JSON.stringify(request));
    assert.equal(encodedResponse.status, 200);
    assert.equal(encodedResponse.headers.get('access-control-allow-origin'), ORIGIN);
    const encoded = (await encodedResponse.json()) as JsonPayloads;
    assert.equal(encoded.payloads.length, 2);
    for (const payload of encoded.payloads) {
      assert.equal(unb64(payload.metadata.encoding), 'binary/encrypted');
      assert.equal(unb64(payload.metadata['encryption-key-id']), 'k2');
      assert.ok(!unb64(payload.data).includes('abc1234'));
    }
    const decodedResponse = await post('/decode', JSON.stringify(encoded));
    assert.equal(decodedResponse.status, 200);
    assert.deepEqual(await decodedResponse.json(), request);
  });

  it('answers the OPTIONS preflight with the CORS headers the UI needs', async () => {
    const response = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    const allowed = response.headers.get('access-control-allow-headers')?.split(',') ?? [];
    assert.ok(allowed.includes('content-type') && allowed.includes('x-namespace'), allowed.join(','));
    assert.match(response.headers.get('access-control-allow-methods') ?? '', /POST/);
  });

  it('answers 404 for other paths, 405 for other methods, 400 for bad JSON and for payloads it cannot decode', async () => {
    assert.equal((await post('/nope', '{}')).status, 404);
    assert.equal((await fetch(`${server.url}/`)).status, 404);
    const get = await fetch(`${server.url}/decode`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST, OPTIONS');

    const badJson = await post('/decode', '{"payloads": [');
    assert.equal(badJson.status, 400);
    assert.match(((await badJson.json()) as { error: string }).error, /^request body is not JSON/);
    const noList = await post('/decode', '{"payload": []}');
    assert.equal(noList.status, 400);
    assert.match(((await noList.json()) as { error: string }).error, /no "payloads" array/);

    const [foreign] = await codecOf(converter(`k9:${newKey()}`)).encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('1') },
    ]);
    const unknown = await post(
      '/decode',
      JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(foreign!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(foreign!.data!).toString('base64'),
          },
        ],
      }),
    );
    assert.equal(unknown.status, 400);
    assert.match(
      ((await unknown.json()) as { error: string }).error,
      /key id "k9", which is not loaded \(loaded: k2, k1\)/,
    );
  });

  it('lets the Temporal CLI show an encrypted run decoded (temporal workflow show --codec-endpoint)', async () => {
    const marker = `tollgate-cli-${randomUUID()}`;
    const echo = shStage('quick-health-check', 'echo "$MARKER_VALUE"', { env: { MARKER_VALUE: marker } });
    const { workflowId } = await runRelease({
      label: 'codec-cli',
      stages: { 'quick-health-check': echo },
      until: 'quick-health-check',
      dataConverter,
    });
    // Asynchronous: the codec server answers from this process.
    const show = (extra: string[]): Promise<{ stdout: string }> =>
      promisify(execFile)(temporalBinary(), [
        'workflow',
        'show',
        '-w',
        workflowId,
        '--address',
        env.address,
        '--namespace',
        env.namespace ?? 'default',
        '--output',
        'json',
        ...extra,
      ]);
    /** The run's input payload as the CLI shows it: its encoding and data, base64-decoded. */
    const input = (stdout: string): { encoding: string; data: string } => {
      const events = (JSON.parse(stdout) as { events: Record<string, unknown>[] }).events;
      const started = events[0]?.workflowExecutionStartedEventAttributes as {
        input: { payloads: { metadata: Record<string, string>; data: string }[] };
      };
      const [payload] = started.input.payloads;
      return { encoding: unb64(payload?.metadata.encoding), data: unb64(payload?.data) };
    };
    const decoded = input((await show(['--codec-endpoint', server.url])).stdout);
    assert.equal(decoded.encoding, 'json/plain');
    assert.equal((JSON.parse(decoded.data) as ReleaseInput).stages[0]?.env.MARKER_VALUE, marker);
    const raw = input((await show([])).stdout);
    assert.equal(raw.encoding, 'binary/encrypted', 'without the codec server it stays encrypted');
    assert.ok(!raw.data.includes(marker));
  });
});
