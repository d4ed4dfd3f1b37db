/** The worker's logger: run ids as top-level fields, secrets redacted everywhere, pretty text, levels. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createLogger, secretsFromEnv, type LoggerOptions } from '../../src/observability/logging.js';

const STRIPE_KEY = 'sk_test_51Hx9QfakeFAKEfake';
const WEBHOOK = 'https://hooks.example.invalid/T000/B000/XXXXXXXXXXXX';
const LOG_TIMESTAMP = Symbol.for('log_timestamp');

/** A logger writing into an array; `json()` parses every line. */
function collect(options: Partial<LoggerOptions> = {}) {
  const written: string[] = [];
  const logger = createLogger({
    secrets: { STRIPE_SECRET_KEY: STRIPE_KEY, TOLLGATE_WEBHOOK_URL: WEBHOOK },
    destination: { write: (line: string) => written.push(line) },
    ...options,
  });
  const json = (): Record<string, unknown>[] =>
    written.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, written, json };
}

test('a workflow line has runId and workflowId at the top level and the SDK timestamp', () => {
  const { logger, json } = collect();
  // The metadata the SDK's workflow logger attaches (workflowLogAttributes) plus its timestamp.
  logger.info('release phase', {
    [LOG_TIMESTAMP]: 1_760_000_000_123_456_789n,
    namespace: 'default',
    taskQueue: 'tollgate',
    workflowId: 'release-saas-app-1',
    runId: '0199-run',
    workflowType: 'releasePipeline',
    sdkComponent: 'workflow',
    phase: 'checks',
  });
  const [line] = json();
  assert.equal(line?.level, 'info');
  assert.equal(line?.msg, 'release phase');
  assert.equal(line?.runId, '0199-run');
  assert.equal(line?.workflowId, 'release-saas-app-1');
  assert.equal(line?.workflowType, 'releasePipeline');
  assert.equal(line?.phase, 'checks');
  assert.equal(line?.time, 1_760_000_000_123);
});

test("an activity line's workflowRunId becomes runId; the task token is dropped", () => {
  const { logger, json } = collect();
  logger.warn('stage failed', {
    isLocal: false,
    attempt: 1,
    namespace: 'default',
    taskToken: 'CiQ2YzQ...',
    activityId: '3',
    activityType: 'runStage',
    taskQueue: 'tollgate',
    workflowId: 'release-saas-app-1',
    workflowRunId: '0199-run',
    workflowType: 'releasePipeline',
    sdkComponent: 'activity',
    stage: 'test-suite',
  });
  const [line] = json();
  assert.equal(line?.runId, '0199-run');
  assert.equal(line?.workflowId, 'release-saas-app-1');
  assert.equal(line?.activityType, 'runStage');
  assert.equal(line?.workflowRunId, undefined);
  assert.equal(line?.taskToken, undefined);
});

test("Core's run_id and workflow_id fields become runId and workflowId", () => {
  const { logger, json } = collect();
  logger.warn('Workflow task failed', {
    sdkComponent: 'core',
    run_id: 'r-1',
    workflow_id: 'w-1',
    level: 'x',
  });
  const [line] = json();
  assert.equal(line?.runId, 'r-1');
  assert.equal(line?.workflowId, 'w-1');
  assert.equal(line?.level, 'warn', 'a metadata field never shadows the level');
  assert.equal(line?.meta_level, 'x');
});

test('secret values are redacted in the message, nested metadata and errors, by name', () => {
  const { logger, written, json } = collect();
  const failure = ApplicationFailure.create({
    type: 'StepFailed',
    message: `curl ${WEBHOOK} failed`,
    cause: new Error(`key ${STRIPE_KEY} refused`),
  });
  logger.error(`posting with ${STRIPE_KEY}`, {
    request: { headers: [`Authorization: Bearer ${STRIPE_KEY}`], url: WEBHOOK },
    error: failure,
  });
  const raw = written.join('');
  assert.ok(!raw.includes(STRIPE_KEY), raw);
  assert.ok(!raw.includes(WEBHOOK), raw);
  const [line] = json();
  assert.equal(line?.msg, 'posting with [REDACTED:STRIPE_SECRET_KEY]');
  const request = line?.request as { headers: string[]; url: string };
  assert.deepEqual(request.headers, ['Authorization: Bearer [REDACTED:STRIPE_SECRET_KEY]']);
  assert.equal(request.url, '[REDACTED:TOLLGATE_WEBHOOK_URL]');
  const error = line?.error as { name: string; type: string; message: string; cause: { message: string } };
  assert.equal(error.name, 'ApplicationFailure');
  assert.equal(error.type, 'StepFailed');
  assert.equal(error.message, 'curl [REDACTED:TOLLGATE_WEBHOOK_URL] failed');
  assert.equal(error.cause.message, 'key [REDACTED:STRIPE_SECRET_KEY] refused');
});

test('a live Stripe key is redacted even when nobody named it; secrets learned later are redacted too', () => {
  const { logger, written } = collect({ secrets: {} });
  logger.info('stage starting', { env: { STRAY: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc' } });
  logger.addSecrets({ DB_PASSWORD: 'hunter2-correct-horse' });
  logger.info('connecting with hunter2-correct-horse');
  const raw = written.join('');
  assert.ok(!raw.includes('sk_live_4eC39HqLyjWDarjtT1zdp7dc'));
  assert.match(raw, /\[REDACTED:stripe-live-key\]/);
  assert.match(raw, /connecting with \[REDACTED:DB_PASSWORD\]/);
});

test('the longest secret wins when one contains another; short values are never redacted', () => {
  const { logger, json } = collect({
    secrets: { SHORT: 'abc', INNER: 'token-1234', OUTER: 'prefix-token-1234' },
  });
  logger.info('prefix-token-1234 then token-1234 then abc');
  assert.equal(json()[0]?.msg, '[REDACTED:OUTER] then [REDACTED:INNER] then abc');
});

test('metadata with cycles, bigints, buffers and dates still makes one JSON line', () => {
  const { logger, json } = collect();
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic.self = cyclic;
  logger.info('odd shapes', { cyclic, big: 10n, bytes: Buffer.from('abc'), at: new Date(0) });
  const [line] = json();
  assert.deepEqual(line?.cyclic, { name: 'loop', self: '[Circular]' });
  assert.equal(line?.big, '10');
  assert.equal(line?.bytes, '[Buffer 3 bytes]');
  assert.equal(line?.at, '1970-01-01T00:00:00.000Z');
});

test('pretty mode writes human text, redacted, not JSON', () => {
  const { logger, written } = collect({ pretty: true });
  logger.info(`worker polling with ${STRIPE_KEY}`, {
    runId: 'r-1',
    workflowId: 'w-1',
    sdkComponent: 'worker',
  });
  const text = written.join('');
  assert.throws(() => JSON.parse(text) as unknown);
  assert.match(text, /INFO/);
  assert.match(text, /worker polling with \[REDACTED:STRIPE_SECRET_KEY\]/);
  assert.match(text, /"runId":"r-1"/);
  assert.doesNotMatch(text, /sdkComponent/, 'noise is left out on a terminal');
  assert.ok(!text.includes(STRIPE_KEY));
});

test('lines below the level are dropped', () => {
  const quiet = collect({ level: 'warn' });
  quiet.logger.debug('debug');
  quiet.logger.info('info');
  quiet.logger.warn('warn');
  quiet.logger.error('error');
  assert.deepEqual(
    quiet.json().map((l) => l.msg),
    ['warn', 'error'],
  );

  const chatty = collect({ level: 'debug' });
  chatty.logger.trace('trace');
  chatty.logger.debug('debug');
  chatty.logger.log('INFO', 'info');
  assert.deepEqual(
    chatty.json().map((l) => [l.level, l.msg]),
    [
      ['debug', 'debug'],
      ['info', 'info'],
    ],
  );
});

test('secretsFromEnv takes named, known and secret-looking variables, not plain ones', () => {
  const secrets = secretsFromEnv(
    {
      STRIPE_SECRET_KEY: STRIPE_KEY,
      STRIPE_WEBHOOK_SECRET: 'whsec_abcdef',
      STRIPE_MOCK_URL: 'http://127.0.0.1:12111',
      TOLLGATE_WEBHOOK_URL: WEBHOOK,
      TOLLGATE_APPROVAL_SECRET: 'approve-me-please',
      TOLLGATE_ENCRYPTION_KEY: 'MDEyMzQ1Njc4OWFiY2RlZg==',
      GITHUB_TOKEN: 'ghp_xxxxxxxx',
      OPENAI_API_KEY: 'sk-proj-xxxx',
      DATABASE_URL: 'postgres://u:p@db/app',
      SHORT_TOKEN: 'abc',
      PATH: '/usr/bin',
      TOLLGATE_HOME: '/var/lib/tollgate',
    },
    ['DATABASE_URL'],
  );
  assert.deepEqual(Object.keys(secrets).sort(), [
    'DATABASE_URL',
    'GITHUB_TOKEN',
    'OPENAI_API_KEY',
    'STRIPE_SECRET_KEY',
    'STRIPE_WEBHOOK_SECRET',
    'TOLLGATE_APPROVAL_SECRET',
    'TOLLGATE_ENCRYPTION_KEY',
    'TOLLGATE_WEBHOOK_URL',
  ]);
});
