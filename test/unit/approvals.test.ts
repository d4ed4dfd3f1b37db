/** Signed approvals without a server: key files, signing, every way a check refuses, the default identity, the activities, `tollgate keys`. */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createApprovalActivities } from '../../src/activities/approvals.js';
import { defaultIdentity } from '../../src/approvals/identity.js';
import {
  ApproverKeyError,
  keyIdOf,
  loadApproverKeys,
  newKeyPair,
  publicKeyEntry,
  readApproverPrivateKey,
  readPublicKeyOf,
  type ApproverKeys,
} from '../../src/approvals/keys.js';
import type { ApprovalRequest, ApprovalVerdict } from '../../src/approvals/protocol.js';
import { signApproval, signDecision } from '../../src/approvals/sign.js';
import { verifyApproval } from '../../src/approvals/verify.js';
import { decisionIdentity } from '../../src/cli/decision.js';
import { testApprovers } from '../support/approvers.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temporal.js';

const SIGNED_AT = new Date('2025-03-01T09:00:00.000Z');
const NOW = SIGNED_AT.getTime() + 30_000;
const MIN = 60_000;

// alice and bob are in the worker's keys file; mallory has a key pair the worker does not know.
const approvers = testApprovers(['alice', 'bob'], ['mallory']);
const KEYS: ApproverKeys = loadApproverKeys(approvers.keysFile);
const keyIdOfApprover = (name: string) => KEYS.keys.find((k) => k.approver === name)!.keyId;

const REQUEST: ApprovalRequest = {
  workflowId: 'release-saas-app',
  runId: '0195a1b2-run-1',
  action: 'promote',
  by: 'alice',
  reason: 'staging is green',
};

/** `request` signed at SIGNED_AT with `signer`'s private key (by default the approver it names). */
function signed(request: ApprovalRequest = REQUEST, signer = request.by): ApprovalRequest {
  const { workflowId, runId, action, by, reason } = request;
  const signature = signApproval(
    approvers.privateKey(signer),
    { workflowId, runId, action, by, ...(reason ? { reason } : {}) },
    SIGNED_AT,
  );
  return { ...request, signature };
}

function refusal(verdict: ApprovalVerdict): string {
  assert.equal(verdict.ok, false, `expected a refusal, got ${JSON.stringify(verdict)}`);
  return verdict.ok ? '' : verdict.reason;
}

/** Expects `fn` to throw an ApproverKeyError matching `pattern`. */
function throwsKeyError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ApproverKeyError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

describe('verifyApproval', () => {
  it('accepts a fresh signature made with the key of the approver named in `by`', () => {
    assert.deepEqual(verifyApproval(KEYS, signed(), NOW), { ok: true, required: true });
    const signature = signed().signature as Record<string, string>;
    assert.deepEqual(Object.keys(signature).sort(), ['alg', 'at', 'keyId', 'sig']);
    assert.equal(signature.alg, 'ed25519');
    assert.equal(signature.at, SIGNED_AT.toISOString());
    assert.equal(Buffer.from(signature.sig!, 'base64').length, 64);
    assert.equal(signature.keyId, keyIdOfApprover('alice'));
  });

  it('accepts anything when the worker holds no keys (signatures not required)', () => {
    assert.deepEqual(verifyApproval(undefined, REQUEST, NOW), { ok: true, required: false });
  });

  it('refuses an unsigned decision, naming the variables and how to make a key', () => {
    assert.equal(
      refusal(verifyApproval(KEYS, REQUEST, NOW)),
      'the worker holds approver keys (TOLLGATE_APPROVER_KEYS) but this promote is unsigned: set TOLLGATE_APPROVER_KEY to your private key file where you run tollgate (make one with `tollgate keys new --approver <name>`)',
    );
  });

  it("refuses a decision by alice signed with bob's key, naming whose key it was", () => {
    assert.equal(
      refusal(verifyApproval(KEYS, signed(REQUEST, 'bob'), NOW)),
      `the signature on this promote by alice was signed with bob's key (key id ${keyIdOfApprover('bob')}), not alice's: a decision must be signed with the key of the approver named by --by`,
    );
  });

  it('refuses a decision by someone whose public key the worker does not hold, naming the file', () => {
    assert.equal(
      refusal(verifyApproval(KEYS, signed({ ...REQUEST, by: 'mallory' }), NOW)),
      `no public key for mallory in ${approvers.keysFile}: add the entry \`tollgate keys new --approver mallory\` printed for them (or \`tollgate keys show <their key file>\`) and run tollgate promote again`,
    );
  });

  it("refuses a decision by alice signed with a key not in the file (mallory's own)", () => {
    const reason = refusal(verifyApproval(KEYS, signed(REQUEST, 'mallory'), NOW));
    assert.match(
      reason,
      /^the signature on this promote by alice was made with a key the worker does not hold/,
    );
    assert.ok(reason.includes(`alice's: ${keyIdOfApprover('alice')}`), reason);
  });

  it('refuses a signature made with the retired shared secret, saying what replaced it', () => {
    const legacy = { at: SIGNED_AT.toISOString(), mac: 'a'.repeat(64), keyId: 'abcd1234' };
    assert.match(
      refusal(verifyApproval(KEYS, { ...REQUEST, signature: legacy }, NOW)),
      /made with the retired shared secret \(TOLLGATE_APPROVAL_SECRET\): set TOLLGATE_APPROVER_KEY to alice's private key/,
    );
  });

  const others: [string, Partial<ApprovalRequest>][] = [
    ['another run of the same workflow', { runId: '0195a1b2-run-2' }],
    ['another workflow', { workflowId: 'release-other-app' }],
    ['another action', { action: 'rollback' }],
    ['another approver', { by: 'bob' }],
    ['another reason', { reason: 'ship it anyway' }],
    ['no reason', { reason: undefined }],
  ];
  for (const [what, change] of others) {
    it(`refuses alice's signature used for ${what}`, () => {
      const reason = refusal(verifyApproval(KEYS, { ...signed(), ...change }, NOW));
      assert.match(reason, /does not match this run, action, identity and reason/);
      assert.ok(reason.includes(`key id ${keyIdOfApprover('alice')} is alice's`), reason);
    });
  }

  it('refuses a signature older than the window, saying how old', () => {
    assert.equal(
      refusal(verifyApproval(KEYS, signed(), SIGNED_AT.getTime() + 7 * MIN)),
      'signature for promote by alice is 7 minutes old (limit 5 min): run tollgate promote again',
    );
    assert.deepEqual(verifyApproval(KEYS, signed(), SIGNED_AT.getTime() + 5 * MIN), {
      ok: true,
      required: true,
    });
  });

  it('refuses a signature dated ahead of the worker clock', () => {
    assert.equal(
      refusal(verifyApproval(KEYS, signed(), SIGNED_AT.getTime() - 5.5 * MIN)),
      "signature for promote by alice is dated 5.5 minutes ahead of the worker's clock (limit 5 min): check the clock where you run tollgate",
    );
  });

  const good = signed().signature as Record<string, string>;
  const malformed: [string, unknown, RegExp][] = [
    ['a string', 'abc', /malformed \(not an object\)/],
    ['no alg', { ...good, alg: undefined }, /alg must be "ed25519"/],
    ['another alg', { ...good, alg: 'hmac-sha256' }, /alg must be "ed25519"/],
    ['a short sig', { ...good, sig: 'abc' }, /sig must be 64 bytes of base64/],
    ['a sig that is not base64', { ...good, sig: `${'*'.repeat(86)}==` }, /sig must be 64 bytes/],
    ['no key id', { ...good, keyId: undefined }, /keyId must be 16 lowercase hex digits/],
    ['no time', { ...good, at: undefined }, /at=undefined is not an ISO time/],
    ['a time without a zone', { ...good, at: '2025-03-01T09:00:00' }, /is not an ISO time/],
    ['an impossible time', { ...good, at: '2025-13-45T99:00:00Z' }, /is not an ISO time/],
  ];
  for (const [what, signature, says] of malformed) {
    it(`refuses a malformed signature: ${what}`, () => {
      const reason = refusal(verifyApproval(KEYS, { ...REQUEST, signature }, NOW));
      assert.match(reason, /^the signature on this promote by alice is malformed/);
      assert.match(reason, says);
    });
  }

  it('refuses a tampered signature', () => {
    const bytes = Buffer.from(good.sig!, 'base64');
    bytes[0] = bytes[0]! ^ 1;
    assert.match(
      refusal(
        verifyApproval(KEYS, { ...REQUEST, signature: { ...good, sig: bytes.toString('base64') } }, NOW),
      ),
      /does not match this run, action, identity and reason/,
    );
  });
});

describe("the worker's keys file", () => {
  const file = (text: string): string => {
    const path = join(tempDir('keys-file'), 'approver-keys.json');
    writeFileSync(path, text);
    return path;
  };
  const entry = () => publicKeyEntry(newKeyPair().publicKey);

  it('lists each approver with one key, or several while rotating', () => {
    const [a, b, c] = [newKeyPair(), newKeyPair(), newKeyPair()];
    const keys = loadApproverKeys(
      file(
        JSON.stringify({
          alice: publicKeyEntry(a.publicKey),
          bob: [publicKeyEntry(b.publicKey), publicKeyEntry(c.publicKey)],
        }),
      ),
    );
    assert.deepEqual(
      keys.keys.map((k) => [k.approver, k.keyId]),
      [
        ['alice', keyIdOf(a.publicKey)],
        ['bob', keyIdOf(b.publicKey)],
        ['bob', keyIdOf(c.publicKey)],
      ],
    );
  });

  const broken: [string, () => string, RegExp][] = [
    [
      'is missing',
      () => join(tempDir('keys-file'), 'absent.json'),
      /cannot be read \(ENOENT\): make it a JSON object/,
    ],
    ['is not JSON', () => file('{ alice: '), /is not JSON \(.*\): make it a JSON object of approver name/],
    ['is a list', () => file(JSON.stringify([entry()])), /is not a JSON object/],
    ['lists nobody', () => file('{}'), /lists no approver: .* or unset TOLLGATE_APPROVER_KEYS/],
    [
      'holds a PEM instead of the base64 line',
      () => file(JSON.stringify({ alice: newKeyPair().publicKey.export({ type: 'spki', format: 'pem' }) })),
      /alice's entry is not an Ed25519 public key as base64 SPKI DER: use the line `tollgate keys new/,
    ],
    [
      'holds garbage',
      () => file(JSON.stringify({ alice: 'not-a-key' })),
      /alice's entry is not an Ed25519 public key/,
    ],
    ['gives an empty list', () => file(JSON.stringify({ alice: [] })), /alice has an empty list/],
    [
      'gives two approvers one key',
      () => {
        const shared = entry();
        return file(JSON.stringify({ alice: shared, bob: shared }));
      },
      /key [0-9a-f]{16} is listed for both alice and bob: every approver needs a key of their own/,
    ],
  ];
  for (const [what, path, says] of broken) {
    it(`is refused when it ${what}, naming the variable and the file`, () => {
      const at = path();
      throwsKeyError(() => loadApproverKeys(at), says);
      throwsKeyError(
        () => loadApproverKeys(at),
        new RegExp(`^TOLLGATE_APPROVER_KEYS=${at.replace(/[.]/g, '\\.')}`),
      );
    });
  }
});

describe('signing where tollgate runs (TOLLGATE_APPROVER_KEY)', () => {
  const fields = { workflowId: 'release-saas-app', runId: 'run-1', action: 'promote' as const, by: 'alice' };
  const keyAt = (text: string, mode = 0o600): string => {
    const path = join(tempDir('approver-key'), 'alice.key');
    writeFileSync(path, text, { mode });
    chmodSync(path, mode);
    return path;
  };

  it("signs with the key named, so that the worker accepts it as alice's", () => {
    const signature = signDecision(fields, { TOLLGATE_APPROVER_KEY: approvers.keyFile('alice') }, SIGNED_AT);
    assert.ok(signature);
    assert.deepEqual(verifyApproval(KEYS, { ...fields, signature }, NOW), { ok: true, required: true });
  });

  it('does not sign where the variable is unset', () => {
    assert.equal(signDecision(fields, {}), undefined);
    assert.equal(signDecision(fields, { TOLLGATE_APPROVER_KEY: ' ' }), undefined);
  });

  it('refuses the retired shared secret, saying what replaced it and how to move', () => {
    throwsKeyError(
      () => signDecision(fields, { TOLLGATE_APPROVAL_SECRET: 'old-shared-secret' }),
      /^TOLLGATE_APPROVAL_SECRET is set, but the shared approval secret was replaced by per-approver key pairs .*: unset it, make each approver a key pair with `tollgate keys new --approver <name>`, then point TOLLGATE_APPROVER_KEY at your private key file/,
    );
  });

  const unusable: [string, () => string, RegExp][] = [
    ['is missing', () => join(tempDir('approver-key'), 'nobody.key'), /cannot be read \(ENOENT\)/],
    [
      'can be read by others',
      () => keyAt(newKeyPair().privateKeyPem, 0o644),
      /can be read by others \(mode 0644\): run chmod 600 /,
    ],
    ['is not a key', () => keyAt('hello\n'), /is not an unencrypted PEM private key/],
    [
      'is a public key',
      () => keyAt(newKeyPair().publicKey.export({ type: 'spki', format: 'pem' }).toString()),
      /is not an unencrypted PEM private key: point it at the <name>\.key file/,
    ],
    [
      'is an RSA key',
      () =>
        keyAt(
          generateKeyPairSync('rsa', { modulusLength: 1024 })
            .privateKey.export({ type: 'pkcs8', format: 'pem' })
            .toString(),
        ),
      /holds a rsa key, not an Ed25519 one/,
    ],
  ];
  for (const [what, path, says] of unusable) {
    it(`refuses a key file that ${what}, naming the variable`, () => {
      const at = path();
      throwsKeyError(() => readApproverPrivateKey(at), says);
      throwsKeyError(() => signDecision(fields, { TOLLGATE_APPROVER_KEY: at }), /^TOLLGATE_APPROVER_KEY=/);
    });
  }
});

describe('the default identity', () => {
  const os = () => 'os-user';
  it('is the CI actor in CI, in the documented order', () => {
    assert.equal(defaultIdentity({ CI: 'true', GITHUB_ACTOR: 'octocat' }, os), 'octocat');
    assert.equal(defaultIdentity({ CI: 'true', GITLAB_USER_LOGIN: 'gitlab-user' }, os), 'gitlab-user');
    assert.equal(defaultIdentity({ CI: '1', BUILDKITE_BUILD_CREATOR: 'Kite Builder' }, os), 'Kite Builder');
    assert.equal(
      defaultIdentity({ CI: 'true', GITHUB_ACTOR: 'octocat', GITLAB_USER_LOGIN: 'gitlab-user' }, os),
      'octocat',
    );
  });
  it('is the OS user outside CI, or in CI without an actor', () => {
    assert.equal(defaultIdentity({ GITHUB_ACTOR: 'octocat' }, os), 'os-user');
    assert.equal(defaultIdentity({ CI: 'false', GITHUB_ACTOR: 'octocat' }, os), 'os-user');
    assert.equal(defaultIdentity({ CI: 'true' }, os), 'os-user');
  });
  it('is unknown when the OS has no user name for this process', () => {
    const none = () => {
      throw new Error('ENOENT: no passwd entry');
    };
    assert.equal(defaultIdentity({}, none), undefined);
  });
  it('is overridden by --by', () => {
    assert.equal(
      decisionIdentity('promote', { by: ' alice ' }, { CI: 'true', GITHUB_ACTOR: 'bot' }),
      'alice',
    );
    assert.equal(decisionIdentity('promote', {}, { CI: 'true', GITHUB_ACTOR: 'bot' }), 'bot');
  });
});

describe('the approval activities', () => {
  const run = <R>(fn: () => Promise<R>): Promise<R> => new MockActivityEnvironment().run(fn);
  const withKeys = (keysFile = approvers.keysFile, now = () => NOW) =>
    createApprovalActivities({
      home: tempDir('approvals'),
      secretSource: { TOLLGATE_APPROVER_KEYS: keysFile },
      now,
    });

  it('say whether signatures are required: only where the worker holds approver keys', async () => {
    const without = createApprovalActivities({ home: tempDir('approvals'), secretSource: {} });
    assert.deepEqual(await run(() => without.approvalsRequired()), { required: false });
    assert.deepEqual(await run(() => withKeys().approvalsRequired()), { required: true });
  });

  it('do not start where the retired shared secret is set, or the keys file is unusable', () => {
    const home = tempDir('approvals');
    throwsKeyError(
      () => createApprovalActivities({ home, secretSource: { TOLLGATE_APPROVAL_SECRET: 'shared' } }),
      /replaced by per-approver key pairs .* then list their public keys in a JSON file named by TOLLGATE_APPROVER_KEYS on the worker/,
    );
    throwsKeyError(
      () => withKeys(join(home, 'missing.json')),
      /^TOLLGATE_APPROVER_KEYS=.*missing\.json cannot be read \(ENOENT\)/,
    );
  });

  it("check with the worker's keys and clock", async () => {
    assert.deepEqual(await run(() => withKeys().verifyApproval(signed())), { ok: true, required: true });
    const late = withKeys(approvers.keysFile, () => NOW + 10 * MIN);
    assert.match(refusal(await run(() => late.verifyApproval(signed()))), /minutes old \(limit 5 min\)/);
  });

  it('read the keys file at each check: a key added counts, a file broken later refuses (fail closed)', async () => {
    const keysFile = join(tempDir('approvals'), 'approver-keys.json');
    const original = readFileSync(approvers.keysFile, 'utf8');
    writeFileSync(keysFile, original);
    const activities = withKeys(keysFile);
    const mallorys = signed({ ...REQUEST, by: 'mallory' });
    assert.match(refusal(await run(() => activities.verifyApproval(mallorys))), /no public key for mallory/);

    const mallory = publicKeyEntry(readPublicKeyOf(approvers.keyFile('mallory')));
    writeFileSync(keysFile, JSON.stringify({ ...JSON.parse(original), mallory }));
    assert.deepEqual(await run(() => activities.verifyApproval(mallorys)), { ok: true, required: true });

    writeFileSync(keysFile, '{ broken');
    const broken = await run(() => activities.verifyApproval(signed()));
    assert.deepEqual(broken.required, true);
    assert.match(
      refusal(broken),
      /^the worker cannot check signatures: TOLLGATE_APPROVER_KEYS=.* is not JSON/,
    );
    assert.deepEqual(await run(() => activities.approvalsRequired()), { required: true });
  });
});

describe('a single-use request (rollback --env)', () => {
  const ROLLBACK: ApprovalRequest = {
    ...REQUEST,
    action: 'rollback',
    runId: 'request-0195',
    singleUse: true,
  };
  const inRun = <R>(runId: string, fn: () => Promise<R>): Promise<R> =>
    new MockActivityEnvironment({ workflowExecution: { workflowId: REQUEST.workflowId, runId } }).run(fn);
  const checked = (home: string) =>
    createApprovalActivities({
      home,
      secretSource: { TOLLGATE_APPROVER_KEYS: approvers.keysFile },
      now: () => NOW,
    });

  it('is let through for the run that used it first, and refused to any other run', async () => {
    const activities = checked(tempDir('approvals'));
    const request = signed(ROLLBACK);
    const first = `run-${randomUUID()}`;
    assert.deepEqual(await inRun(first, () => activities.verifyApproval(request)), {
      ok: true,
      required: true,
    });
    // The same run again: a retried local activity or a replayed workflow task.
    assert.deepEqual(await inRun(first, () => activities.verifyApproval(request)), {
      ok: true,
      required: true,
    });
    assert.match(
      refusal(await inRun('run-copy', () => activities.verifyApproval(request))),
      new RegExp(
        `this signed rollback request was already used by run ${first} at .*: run tollgate rollback again`,
      ),
    );
  });

  it('is not recorded when its signature is refused, nor when the worker holds no keys', async () => {
    const home = tempDir('approvals');
    refusal(await inRun('run-forged', () => checked(home).verifyApproval(signed(ROLLBACK, 'bob'))));
    const open = createApprovalActivities({ home, secretSource: {}, now: () => NOW });
    assert.deepEqual(await inRun('run-open', () => open.verifyApproval(ROLLBACK)), {
      ok: true,
      required: false,
    });
    assert.deepEqual(
      await inRun('run-signed', () => checked(home).verifyApproval(signed(ROLLBACK))),
      { ok: true, required: true },
      'neither the forged nor the unsigned attempt used the request up',
    );
  });
});

describe('tollgate keys', () => {
  const env = (): NodeJS.ProcessEnv => {
    const clean = { ...process.env };
    delete clean.TOLLGATE_APPROVAL_SECRET;
    return clean;
  };

  it('new writes <approver>.key with mode 0600 and an entry the worker accepts signatures under', async () => {
    const out = join(tempDir('keys-new'), 'keys');
    const made = await runCli(['keys', 'new', '--approver', 'carol', '--out', out], env());
    assert.equal(made.code, 0, made.stderr);
    const keyFile = join(out, 'carol.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.match(readFileSync(keyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(made.stdout.includes(`export TOLLGATE_APPROVER_KEY=${keyFile}`), made.stdout);
    const line = /^ {4}("carol": "[A-Za-z0-9+/=]+")$/m.exec(made.stdout)?.[1];
    assert.ok(line, made.stdout);

    // The printed entry, pasted into a keys file, checks what the written key signs.
    const keysFile = join(out, 'approver-keys.json');
    writeFileSync(keysFile, `{ ${line} }\n`);
    const fields = { ...REQUEST, by: 'carol' };
    const signature = signDecision(fields, { TOLLGATE_APPROVER_KEY: keyFile }, SIGNED_AT);
    assert.deepEqual(verifyApproval(loadApproverKeys(keysFile), { ...fields, signature }, NOW), {
      ok: true,
      required: true,
    });

    const shown = await runCli(['keys', 'show', keyFile, '--json'], env());
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(JSON.parse(shown.stdout), JSON.parse(`{ ${line} }`), 'show prints the same entry');
  });

  it('new refuses to overwrite an existing key', async () => {
    const out = tempDir('keys-new');
    assert.equal((await runCli(['keys', 'new', '--approver', 'dave', '--out', out], env())).code, 0);
    const before = readFileSync(join(out, 'dave.key'), 'utf8');
    const again = await runCli(['keys', 'new', '--approver', 'dave', '--out', out], env());
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /dave\.key exists: refusing to overwrite a key/);
    assert.equal(readFileSync(join(out, 'dave.key'), 'utf8'), before, 'the key is untouched');
  });

  it('new refuses a name that is not a safe file name, and needs --approver', async () => {
    const out = tempDir('keys-new');
    const bad = await runCli(['keys', 'new', '--approver', '../evil', '--out', out], env());
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--approver "\.\.\/evil" is not an approver name/);
    const missing = await runCli(['keys', 'new', '--out', out], env());
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '--approver <name>' not specified/);
  });
});
