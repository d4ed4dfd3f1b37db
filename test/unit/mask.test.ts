/** maskSecretLike: a credential-looking value keeps its kind and at most its last four characters. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { maskSecretLike } from '../../src/mask.js';

it('masks credential-looking values in any text, keeping the kind and the last four characters', () => {
  assert.equal(
    maskSecretLike(
      'secrets.0 (got "sk_live_51HxPastedIntoConfig9f3a") and again sk_live_51HxPastedIntoConfig9f3a',
    ),
    'secrets.0 (got "sk_live_…9f3a") and again sk_live_…9f3a',
  );
  assert.equal(maskSecretLike('whsec_0123456789abcdefABCDEF'), 'whsec_…CDEF');
  assert.equal(maskSecretLike('token ghp_abcdefghijklmnopqrstuvwxyz0123456789'), 'token ghp_…6789');
  assert.equal(maskSecretLike('AKIAIOSFODNN7EXAMPLE'), 'AKIA…MPLE');
});

it('shows nothing of a short value but its kind', () => {
  assert.equal(maskSecretLike('"sk_test_abc123"'), '"sk_test_…"');
});

it('leaves names and ordinary text alone', () => {
  const text =
    'add "STRIPE_SECRET_KEY" to the stage\'s secrets; task_test_runner; desk_live_demo; pk_live_ok';
  assert.equal(maskSecretLike(text), text);
});
