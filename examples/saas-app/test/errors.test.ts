import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validationField } from '../src/errors.js';
import { SLOW_FAULT_DELAY_MS } from '../src/app.js';
import { makeApp, testConfig } from './helpers.js';

describe('validationField', () => {
  it('names nested, missing and extra properties', () => {
    assert.equal(validationField('body', { instancePath: '/amount' }), 'amount');
    assert.equal(validationField('body', { instancePath: '/a/b' }), 'a.b');
    assert.equal(validationField('body', { instancePath: '', params: { missingProperty: 'currency' } }), 'currency');
    assert.equal(validationField('body', { instancePath: '/meta', params: { additionalProperty: 'x' } }), 'meta.x');
    assert.equal(validationField('querystring', { instancePath: '' }), 'querystring');
    assert.equal(validationField(undefined, undefined), 'body');
  });
});

describe('SAAS_FAULT=slow', () => {
  it('delays every request', async () => {
    const t = await makeApp({ config: testConfig({ fault: 'slow' }) });
    try {
      const started = Date.now();
      const res = await t.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(res.statusCode, 200);
      assert.ok(Date.now() - started >= SLOW_FAULT_DELAY_MS - 50);
    } finally {
      await t.close();
    }
  });
});
