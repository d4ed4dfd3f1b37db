/**
 * The payload encryption keys, from TOLLGATE_ENCRYPTION_KEY or the file TOLLGATE_ENCRYPTION_KEY_FILE names.
 *
 * Format: entries separated by commas or newlines, each `<id>:<base64 of 32 bytes>`, the key that
 * encrypts first; every key decrypts. Rotating is prepending a new key and keeping the old ones
 * as long as histories written with them are read:
 *
 *   TOLLGATE_ENCRYPTION_KEY="k2:$(openssl rand -base64 32),k1:<the old key>"
 *
 * An entry without `<id>:` gets the first 8 hex digits of its key's SHA-256 as its id. Ids are
 * 1 to 64 letters, digits, `.`, `_` or `-`. In a key file, blank lines and lines starting with
 * `#` are ignored. Errors name the variable and the entry, never the key.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The variable holding the keys inline. */
export const KEY_VARIABLE = 'TOLLGATE_ENCRYPTION_KEY';
/** The variable naming a file that holds the keys. */
export const KEY_FILE_VARIABLE = 'TOLLGATE_ENCRYPTION_KEY_FILE';

/** AES-256 takes 32-byte keys. */
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
// Standard or URL-safe alphabet, optional padding.
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const FIX = `generate a key with \`openssl rand -base64 32\` and write entries as <id>:<base64 key>, the encrypting key first (e.g. ${KEY_VARIABLE}="k2:<new key>,k1:<old key>")`;

/** One AES-256 key and the id payloads encrypted with it carry. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** A key setting that cannot be used; the message names the variable and the problem, never the key. */
export class EncryptionKeyError extends Error {
  override readonly name = 'EncryptionKeyError';
}

/** The id an entry without one gets: the first 8 hex digits of the key's SHA-256. */
export function derivedKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** Parses a key list; `where` names its origin in errors (the variable, or the variable and the file). */
export function parseKeys(text: string, where: string): EncryptionKey[] {
  const entries = text
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '' && !entry.startsWith('#'));
  if (entries.length === 0) {
    throw new EncryptionKeyError(
      `${where} is set but holds no key: unset it to run without encryption, or ${FIX}`,
    );
  }
  const keys: EncryptionKey[] = [];
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    // Base64 has no ':', so the first one always ends the id.
    const id = colon >= 0 ? entry.slice(0, colon).trim() : undefined;
    const encoded = (colon >= 0 ? entry.slice(colon + 1) : entry).trim();
    const which = `${where}: entry ${index + 1} of ${entries.length}`;
    if (id !== undefined && !KEY_ID.test(id)) {
      // Not echoed: a mistyped entry may be key material.
      throw new EncryptionKeyError(
        `${which} has an invalid key id (ids are 1-64 letters, digits, '.', '_' or '-'): ${FIX}`,
      );
    }
    const named = id === undefined ? '' : ` (id "${id}")`;
    if (!BASE64.test(encoded)) {
      throw new EncryptionKeyError(`${which}${named} is not base64: ${FIX}`);
    }
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) {
      throw new EncryptionKeyError(
        `${which}${named} decodes to ${key.length} bytes; AES-256 needs ${KEY_BYTES}: ${FIX}`,
      );
    }
    const keyId = id ?? derivedKeyId(key);
    const earlier = keys.findIndex((k) => k.id === keyId);
    if (earlier >= 0) {
      throw new EncryptionKeyError(
        `${which} repeats key id "${keyId}" of entry ${earlier + 1}: give each key its own id`,
      );
    }
    keys.push({ id: keyId, key });
  }
  return keys;
}

/** The keys the environment configures, the encrypting key first; undefined when neither variable is set. */
export function loadEncryptionKeys(env: NodeJS.ProcessEnv = process.env): EncryptionKey[] | undefined {
  const inline = env[KEY_VARIABLE];
  const file = env[KEY_FILE_VARIABLE];
  if (inline !== undefined && file !== undefined) {
    throw new EncryptionKeyError(
      `both ${KEY_VARIABLE} and ${KEY_FILE_VARIABLE} are set: keep one (the file is for keys you do not want in the environment)`,
    );
  }
  if (inline !== undefined) return parseKeys(inline, KEY_VARIABLE);
  if (file === undefined) return undefined;
  if (file.trim() === '') {
    throw new EncryptionKeyError(
      `${KEY_FILE_VARIABLE} is set but empty: unset it, or set it to the path of a key file`,
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new EncryptionKeyError(
      `${KEY_FILE_VARIABLE}=${file} cannot be read (${code}): point it at a readable file of <id>:<base64 key> lines`,
    );
  }
  return parseKeys(text, `${KEY_FILE_VARIABLE} (${file})`);
}
