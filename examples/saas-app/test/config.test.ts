import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_STRIPE_KEY, isLiveKey, isTestKey, loadConfig, startupRefusal } from '../src/config.js';

describe('loadConfig', () => {
  it('has safe local defaults', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.databasePath, './data/saas.db');
    assert.equal(config.fault, 'none');
    assert.equal(config.ci, false);
    assert.equal(config.stripe.secretKey, DEFAULT_STRIPE_KEY);
    assert.equal(config.stripe.apiBase, undefined);
    assert.match(config.stripe.webhookSecret, /^whsec_/);
    assert.equal(config.llm.openaiApiKey, undefined);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_PATH: '/tmp/x.db',
      NODE_ENV: 'production',
      CI: 'true',
      LOG_LEVEL: 'debug',
      SAAS_FAULT: 'webhook',
      STRIPE_SECRET_KEY: 'sk_test_abc',
      STRIPE_API_BASE: 'http://127.0.0.1:12111',
      STRIPE_WEBHOOK_SECRET: 'whsec_x',
      OPENAI_API_KEY: 'k1',
      ANTHROPIC_API_KEY: 'k2',
    });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.ci, true);
    assert.equal(config.fault, 'webhook');
    assert.equal(config.stripe.apiBase?.port, '12111');
    assert.equal(config.llm.anthropicApiKey, 'k2');
  });

  it('treats CI=false and CI=0 as unset', () => {
    assert.equal(loadConfig({ CI: 'false' }).ci, false);
    assert.equal(loadConfig({ CI: '0' }).ci, false);
  });

  it('rejects bad values naming the variable', () => {
    assert.throws(() => loadConfig({ PORT: 'abc' }), /PORT/);
    assert.throws(() => loadConfig({ PORT: '70000' }), /PORT/);
    assert.throws(() => loadConfig({ SAAS_FAULT: 'boom' }), /SAAS_FAULT/);
    assert.throws(() => loadConfig({ STRIPE_API_BASE: 'ftp://127.0.0.1' }), /STRIPE_API_BASE/);
    assert.throws(() => loadConfig({ STRIPE_API_BASE: 'not a url' }));
  });
});

describe('key kinds', () => {
  it('tells live keys from test keys', () => {
    assert.equal(isLiveKey('sk_live_1'), true);
    assert.equal(isLiveKey('rk_live_1'), true);
    assert.equal(isLiveKey('sk_test_1'), false);
    assert.equal(isTestKey('rk_test_1'), true);
    assert.equal(isTestKey('pk_test_1'), false);
  });
});

describe('startupRefusal', () => {
  it('refuses a live key under NODE_ENV=test or CI', () => {
    assert.match(startupRefusal(loadConfig({ NODE_ENV: 'test', STRIPE_SECRET_KEY: 'sk_live_x' })) ?? '', /NODE_ENV=test/);
    assert.match(startupRefusal(loadConfig({ CI: '1', STRIPE_SECRET_KEY: 'rk_live_x' })) ?? '', /CI is set/);
  });

  it('allows test keys anywhere and live keys in production outside CI', () => {
    assert.equal(startupRefusal(loadConfig({ CI: '1', STRIPE_SECRET_KEY: 'sk_test_x' })), undefined);
    assert.equal(startupRefusal(loadConfig({ NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_live_x' })), undefined);
  });
});
