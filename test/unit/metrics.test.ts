/** Metrics set-up without a server: TOLLGATE_METRICS_ADDRESS, a taken port, rollback reasons. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { FailureType } from '../../src/failures.js';
import { createLogger } from '../../src/observability/logging.js';
import {
  DEFAULT_METRICS_ADDRESS,
  installRuntime,
  metricsAddressOf,
} from '../../src/observability/runtime.js';
import { rollbackReason } from '../../src/workflows/metrics.js';

test('TOLLGATE_METRICS_ADDRESS: loopback by default, a bare port, localhost, IPv6, off', () => {
  assert.equal(metricsAddressOf(undefined), DEFAULT_METRICS_ADDRESS);
  assert.equal(metricsAddressOf('9100'), '127.0.0.1:9100');
  assert.equal(metricsAddressOf('localhost:9100'), '127.0.0.1:9100');
  assert.equal(metricsAddressOf('0.0.0.0:9464'), '0.0.0.0:9464');
  assert.equal(metricsAddressOf('[::1]:9464'), '[::1]:9464');
  assert.equal(metricsAddressOf('off'), undefined);
  assert.equal(metricsAddressOf('OFF'), undefined);
  assert.equal(metricsAddressOf(''), undefined);
  for (const bad of [
    'metrics.internal:9464',
    '127.0.0.1',
    '127.0.0.1:0',
    '127.0.0.1:70000',
    'http://127.0.0.1:9464',
  ]) {
    assert.throws(() => metricsAddressOf(bad), /TOLLGATE_METRICS_ADDRESS=.* is not ip:port/, bad);
  }
});

test('a taken metrics port is logged and the Runtime comes up without /metrics; a second install is a no-op', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const address = blocker.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const written: string[] = [];
  const logger = createLogger({ secrets: {}, destination: { write: (line: string) => written.push(line) } });
  try {
    const first = installRuntime({ logger, metricsAddress: `127.0.0.1:${port}` });
    assert.equal(first.installed, true);
    assert.equal(first.metricsAddress, undefined);
    const warning = JSON.parse(written[0] ?? '{}') as { level: string; msg: string };
    assert.equal(warning.level, 'warn');
    assert.match(warning.msg, new RegExp(`metrics off: cannot serve /metrics on 127\\.0\\.0\\.1:${port}`));

    const second = installRuntime({ logger, metricsAddress: 'off' });
    assert.equal(second.installed, false, 'one Runtime per process: the first one stays');
    assert.equal(second.runtime, first.runtime);
    await first.runtime.shutdown(); // a Runtime keeps the process alive
  } finally {
    blocker.close();
  }
});

test('rollback reasons from what ended the release', () => {
  const reason = (
    failureType: string | undefined,
    extra: { cancelled?: boolean; gateTimedOut?: boolean } = {},
  ) => rollbackReason({ cancelled: false, gateTimedOut: false, failureType, ...extra });
  assert.equal(reason(FailureType.VerificationBreach), 'verification-breach');
  assert.equal(reason(FailureType.RolledBack), 'operator');
  assert.equal(reason(FailureType.RolledBack, { gateTimedOut: true }), 'gate-timeout');
  assert.equal(reason(FailureType.SmokeTestFailed), 'stage-failed');
  assert.equal(reason(undefined), 'stage-failed');
  assert.equal(reason(undefined, { cancelled: true }), 'cancelled');
});
