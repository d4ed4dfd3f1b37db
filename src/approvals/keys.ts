/**
 * Approver key pairs (Ed25519): making one, its key id, the private key the CLI signs with
 * (TOLLGATE_APPROVER_KEY) and the public keys the worker checks with (TOLLGATE_APPROVER_KEYS).
 *
 * The worker's keys file is one JSON object from approver name (as in the config's approvers and
 * `--by`) to that approver's public key: the base64 of its SPKI DER, one line, as `tollgate keys new`
 * and `tollgate keys show` print it. A list of keys while an approver rotates theirs:
 *
 *   { "alice": "MCowBQYDK2VwAyEA…", "bob": ["MCowBQYDK2VwAyEA…new", "MCowBQYDK2VwAyEA…old"] }
 *
 * Errors name the variable, the file and the fix; they never contain a private key.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** The CLI's variable: the path of the approver's private key (PEM, PKCS8). */
export const APPROVER_KEY_VARIABLE = 'TOLLGATE_APPROVER_KEY';
/** The worker's variable: the path of the JSON file of approvers' public keys. */
export const APPROVER_KEYS_VARIABLE = 'TOLLGATE_APPROVER_KEYS';
/** The shared HMAC secret approvals were signed with before approver keys; refused where it is still set. */
export const RETIRED_SECRET_VARIABLE = 'TOLLGATE_APPROVAL_SECRET';

const MAKE_KEY = '`tollgate keys new --approver <name>`';
// Standard base64 with padding, as Buffer#toString('base64') writes it.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** An approver key setting that cannot be used; the message names the variable, the file and the fix. */
export class ApproverKeyError extends Error {
  override readonly name = 'ApproverKeyError';
}

/** One approver's public key, as the worker holds it. */
export interface ApproverKey {
  approver: string;
  keyId: string;
  key: KeyObject;
}

/** The worker's public keys and the file they came from (refusals name it). */
export interface ApproverKeys {
  file: string;
  keys: ApproverKey[];
}

/** A fresh key pair: the private key as PEM (PKCS8), and the public key. */
export function newKeyPair(): { privateKeyPem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
}

/** The key's short fingerprint: the first 16 hex digits of the SHA-256 of its SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(spki(publicKey)).digest('hex').slice(0, 16);
}

/** The public key as the worker's keys file holds it: base64 of the SPKI DER. */
export function publicKeyEntry(publicKey: KeyObject): string {
  return spki(publicKey).toString('base64');
}

/** Refuses the retired shared secret, saying what replaced it and how to move (`where`: who has it set). */
export function refuseRetiredSecret(env: NodeJS.ProcessEnv, where: 'worker' | 'cli'): void {
  if (!env[RETIRED_SECRET_VARIABLE]) return;
  const then =
    where === 'worker'
      ? `list their public keys in a JSON file named by ${APPROVER_KEYS_VARIABLE} on the worker`
      : `point ${APPROVER_KEY_VARIABLE} at your private key file`;
  throw new ApproverKeyError(
    `${RETIRED_SECRET_VARIABLE} is set, but the shared approval secret was replaced by per-approver key pairs (${APPROVER_KEYS_VARIABLE} on the worker, ${APPROVER_KEY_VARIABLE} where you run tollgate): unset it, make each approver a key pair with ${MAKE_KEY}, then ${then} (see docs/approvals.md)`,
  );
}

/** The worker's keys file, if TOLLGATE_APPROVER_KEYS names one. */
export function approverKeysFile(env: NodeJS.ProcessEnv): string | undefined {
  return env[APPROVER_KEYS_VARIABLE]?.trim() || undefined;
}

/** Reads the private key at `path` (TOLLGATE_APPROVER_KEY): readable by its owner only, PEM, Ed25519. */
export function readApproverPrivateKey(path: string): KeyObject {
  const where = `${APPROVER_KEY_VARIABLE}=${path}`;
  const text = readText(path, where, `point it at the <name>.key file ${MAKE_KEY} wrote`);
  // Like ssh: a private key others can read may already be someone else's.
  const mode = statSync(path).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new ApproverKeyError(
      `${where} can be read by others (mode ${mode.toString(8).padStart(4, '0')}): run chmod 600 ${path}`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch {
    throw new ApproverKeyError(
      `${where} is not an unencrypted PEM private key: point it at the <name>.key file ${MAKE_KEY} wrote (not the public entry)`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ApproverKeyError(
      `${where} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key, not an Ed25519 one: make one with ${MAKE_KEY}`,
    );
  }
  return key;
}

/** The Ed25519 public key in a PEM file (a private key's, or a public key), for `tollgate keys show`. */
export function readPublicKeyOf(path: string): KeyObject {
  const text = readText(path, path, `name the <name>.key file ${MAKE_KEY} wrote`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch {
    throw new ApproverKeyError(`${path} is not a PEM key: name the <name>.key file ${MAKE_KEY} wrote`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ApproverKeyError(
      `${path} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key, not an Ed25519 one`,
    );
  }
  return key;
}

/** Reads and checks the worker's keys file (see the top of this file); every problem is an ApproverKeyError. */
export function loadApproverKeys(file: string): ApproverKeys {
  const where = `${APPROVER_KEYS_VARIABLE}=${file}`;
  const shape = `a JSON object of approver name to public key, e.g. {"alice": "MCowBQYDK2VwAyEA…"}, entries as ${MAKE_KEY} prints them`;
  const text = readText(file, where, `make it ${shape}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ApproverKeyError(`${where} is not JSON (${(error as Error).message}): make it ${shape}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApproverKeyError(`${where} is not a JSON object: make it ${shape}`);
  }
  const keys: ApproverKey[] = [];
  for (const [approver, value] of Object.entries(parsed)) {
    if (approver.trim() === '' || approver !== approver.trim()) {
      throw new ApproverKeyError(
        `${where} has an entry named ${JSON.stringify(approver)}: name it as the approver decides (--by)`,
      );
    }
    const entries: unknown[] = Array.isArray(value) ? value : [value];
    if (entries.length === 0) {
      throw new ApproverKeyError(
        `${where}: ${approver} has an empty list: give at least one public key, or remove the entry`,
      );
    }
    for (const entry of entries) {
      const key = parsePublicKey(entry);
      if (!key) {
        throw new ApproverKeyError(
          `${where}: ${approver}'s entry is not an Ed25519 public key as base64 SPKI DER: use the line ${MAKE_KEY} or \`tollgate keys show <keyfile>\` prints`,
        );
      }
      const keyId = keyIdOf(key);
      const holder = keys.find((k) => k.keyId === keyId);
      if (holder) {
        throw new ApproverKeyError(
          `${where}: key ${keyId} is listed for both ${holder.approver} and ${approver}: every approver needs a key of their own`,
        );
      }
      keys.push({ approver, keyId, key });
    }
  }
  if (keys.length === 0) {
    throw new ApproverKeyError(
      `${where} lists no approver: make it ${shape}, or unset ${APPROVER_KEYS_VARIABLE}`,
    );
  }
  return { file, keys };
}

/** A keys-file entry as a public key, or undefined if it is not base64 SPKI DER of an Ed25519 key. */
function parsePublicKey(entry: unknown): KeyObject | undefined {
  if (typeof entry !== 'string' || !BASE64.test(entry.trim())) return undefined;
  try {
    const key = createPublicKey({ key: Buffer.from(entry.trim(), 'base64'), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}

function spki(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

/** A file's text, or an ApproverKeyError naming `where`, the system's reason and `fix`. */
function readText(path: string, where: string, fix: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ApproverKeyError(`${where} cannot be read (${code}): ${fix}`);
  }
}
