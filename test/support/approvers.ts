/** Approver key pairs for tests: private key files and the worker's keys file, in a fresh temp folder. */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newKeyPair, publicKeyEntry } from '../../src/approvals/keys.js';
import { tempDir } from './temporal.js';

/** Some approvers' keys on disk. */
export interface TestApprovers {
  /** The worker's TOLLGATE_APPROVER_KEYS file, listing every approver given. */
  keysFile: string;
  /** The path of `name`'s private key file (mode 0600): a CLI's TOLLGATE_APPROVER_KEY. */
  keyFile(name: string): string;
  /** `name`'s private key, to sign with in the test itself. */
  privateKey(name: string): KeyObject;
}

/**
 * Key pairs for `listed` (in the keys file) and `unlisted` (key files only, as someone whose public
 * key the worker does not hold).
 */
export function testApprovers(listed: string[], unlisted: string[] = []): TestApprovers {
  const dir = tempDir('approver-keys');
  const entries: Record<string, string> = {};
  for (const name of [...listed, ...unlisted]) {
    const { privateKeyPem, publicKey } = newKeyPair();
    writeFileSync(join(dir, `${name}.key`), privateKeyPem, { mode: 0o600 });
    if (listed.includes(name)) entries[name] = publicKeyEntry(publicKey);
  }
  const keysFile = join(dir, 'approver-keys.json');
  writeFileSync(keysFile, `${JSON.stringify(entries, null, 2)}\n`);
  const keyFile = (name: string): string => join(dir, `${name}.key`);
  return {
    keysFile,
    keyFile,
    privateKey: (name) => createPrivateKey(readFileSync(keyFile(name), 'utf8')),
  };
}
