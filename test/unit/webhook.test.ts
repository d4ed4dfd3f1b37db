/**
 * postWebhook against a real HTTP receiver on loopback: how each answer is classified for the
 * retry policy, Retry-After, and that no error message carries the URL (it is a secret).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../src/failures.js';
import {
  postWebhook,
  retryAfterMs,
  WEBHOOK_REJECTED,
  WEBHOOK_UNAVAILABLE,
} from '../../src/notify/webhook.js';

const SECRET = 'TOLLGATE_WEBHOOK_URL';
/** The path plays the part of a Slack hook's credential. */
const TOKEN_PATH = '/services/T0TOLLGATE/B0SECRET/xoxtokenvalue';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const handlers = new Map<string, Handler>();
const received: { path: string; body: string; type?: string }[] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    const [, name] = /^\/(\w+)/.exec(req.url ?? '') ?? [];
    received.push({
      path: req.url ?? '',
      body,
      ...(req.headers['content-type'] ? { type: req.headers['content-type'] } : {}),
    });
    const handler = handlers.get(name ?? '');
    if (handler) handler(req, res, body);
    else res.writeHead(404).end('no_service');
  });
});
let base = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

handlers.set('ok', (_req, res) => res.writeHead(200).end('ok'));
handlers.set('down', (_req, res) => res.writeHead(503).end('upstream down'));
handlers.set('limited', (_req, res) => res.writeHead(429, { 'retry-after': '7' }).end('rate_limited'));
handlers.set('echo', (req, res) => res.writeHead(500).end(`cannot post to ${base}${req.url}`));
handlers.set('moved', (_req, res) => res.writeHead(301, { location: `${base}/ok` }).end());
handlers.set('gone', (_req, res) => res.writeHead(410).end('invalid_token'));
handlers.set('slow', () => undefined);

/** The failure `postWebhook` throws for `path`. */
async function failureFor(url: string, timeoutMs?: number): Promise<ApplicationFailure> {
  try {
    await postWebhook({ url, secretName: SECRET }, { text: 'hello' }, timeoutMs ? { timeoutMs } : {});
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `an ApplicationFailure, not ${String(error)}`);
    assert.ok(!error.message.includes(url), `the URL stays out of the message: ${error.message}`);
    assert.ok(
      !error.message.includes(TOKEN_PATH),
      `the hook's path stays out of the message: ${error.message}`,
    );
    assert.match(error.message, new RegExp(`webhook \\(secret ${SECRET}\\)`));
    return error;
  }
  assert.fail(`posting to ${url} should have failed`);
}

describe('postWebhook', () => {
  it('POSTs the JSON body and resolves on 2xx', async () => {
    const before = received.length;
    assert.deepEqual(
      await postWebhook({ url: `${base}/ok${TOKEN_PATH}`, secretName: SECRET }, { text: 'hi' }),
      {
        status: 200,
      },
    );
    const [request] = received.slice(before);
    assert.deepEqual(request, { path: `/ok${TOKEN_PATH}`, body: '{"text":"hi"}', type: 'application/json' });
  });

  it('5xx is retryable', async () => {
    const failure = await failureFor(`${base}/down${TOKEN_PATH}`);
    assert.equal(failure.type, WEBHOOK_UNAVAILABLE);
    assert.equal(failure.nonRetryable, false);
    assert.match(failure.message, /answered 503: upstream down/);
  });

  it('429 is retryable after the Retry-After the receiver asks for', async () => {
    const failure = await failureFor(`${base}/limited${TOKEN_PATH}`);
    assert.equal(failure.type, WEBHOOK_UNAVAILABLE);
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.nextRetryDelay, 7000);
  });

  it('a receiver that echoes the URL has it redacted', async () => {
    const failure = await failureFor(`${base}/echo${TOKEN_PATH}`);
    assert.match(failure.message, /answered 500: cannot post to \[webhook URL\]/);
  });

  it('4xx is a misconfigured hook: not retryable', async () => {
    const failure = await failureFor(`${base}/gone${TOKEN_PATH}`);
    assert.equal(failure.type, WEBHOOK_REJECTED);
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /answered 410: invalid_token: check that TOLLGATE_WEBHOOK_URL holds/);
  });

  it('a redirect is not followed and not retried', async () => {
    const before = received.length;
    const failure = await failureFor(`${base}/moved${TOKEN_PATH}`);
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /answered 301: redirects are not followed/);
    assert.equal(received.length - before, 1, 'the POST went to the configured URL only');
  });

  it('no answer in time is retryable', async () => {
    const failure = await failureFor(`${base}/slow${TOKEN_PATH}`, 200);
    assert.equal(failure.type, WEBHOOK_UNAVAILABLE);
    assert.equal(failure.nonRetryable, false);
    assert.match(failure.message, /no answer within 200 ms/);
  });

  it('a refused connection is retryable and names the error code, not the host', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const failure = await failureFor(`http://127.0.0.1:${port}${TOKEN_PATH}`);
    assert.equal(failure.nonRetryable, false);
    assert.match(failure.message, /could not be reached \(ECONNREFUSED\)/);
    assert.doesNotMatch(failure.message, new RegExp(String(port)));
  });

  for (const value of ['hooks.slack.com/services/T0/B0/xyz', 'ftp://example.com/hook', 'xoxb-not-a-url']) {
    it(`refuses a secret that is not an http(s) URL (${value.slice(0, 12)}…) without showing it`, async () => {
      const failure = await failureFor(value);
      assert.equal(failure.type, FailureType.InvalidConfig);
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, /is not an http\(s\) URL: set TOLLGATE_WEBHOOK_URL/);
    });
  }
});

describe('retryAfterMs', () => {
  const now = Date.parse('2025-03-01T06:00:00.000Z');
  it('reads seconds and HTTP dates, caps them, and ignores what it cannot read', () => {
    assert.equal(retryAfterMs('3', now), 3000);
    assert.equal(retryAfterMs('Sat, 01 Mar 2025 06:00:20 GMT', now), 20_000);
    assert.equal(retryAfterMs('0', now), 1000);
    assert.equal(retryAfterMs('3600', now), 60_000);
    assert.equal(retryAfterMs(null, now), undefined);
    assert.equal(retryAfterMs('soon', now), undefined);
  });
});
