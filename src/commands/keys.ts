/**
 * `tollgate keys new --approver <name> [--out <dir>]`: makes an approver's Ed25519 key pair.
 * `tollgate keys show <keyfile> [--approver <name>]`: prints a key's entry for the worker's keys file.
 */
import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  APPROVER_KEY_VARIABLE,
  APPROVER_KEYS_VARIABLE,
  keyIdOf,
  newKeyPair,
  publicKeyEntry,
  readPublicKeyOf,
} from '../approvals/keys.js';
import { ExitCode, ExitError } from '../cli/exit.js';

/** Options of `tollgate keys new`. */
export interface KeysNewOptions {
  /** Whose key it is: the name they decide as (`--by`, the config's approvers). */
  approver: string;
  /** Where to write `<approver>.key` (default: the current folder). */
  out?: string;
  /** Print only the keys-file entry, as a JSON object. */
  json?: boolean;
}

/** Options of `tollgate keys show`. */
export interface KeysShowOptions {
  /** The approver the key is for (default: the file name without `.key`). */
  approver?: string;
  /** Print only the keys-file entry, as a JSON object. */
  json?: boolean;
}

/** Writes `<out>/<approver>.key` (mode 0600, never over an existing file) and prints its public entry. */
export function keysNew(options: KeysNewOptions): Promise<number> {
  const approver = approverName(options.approver, '--approver');
  const dir = resolve(options.out ?? '.');
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new ExitError(
      ExitCode.BadInput,
      `--out ${options.out} is not a folder: name the folder to write ${approver}.key in`,
    );
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${approver}.key`);
  const { privateKeyPem, publicKey } = newKeyPair();
  try {
    // 'wx': fails if the file exists, so an approver's key is never replaced by accident.
    writeFileSync(file, privateKeyPem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw new ExitError(
      ExitCode.BadInput,
      `${file} exists: refusing to overwrite a key (its public entry: tollgate keys show ${file}); move it away first to make a new one`,
    );
  }
  print(approver, publicKey, options.json, [
    `✓ wrote ${approver}'s private key to ${file} (mode 0600; key id ${keyIdOf(publicKey)}): keep it to ${approver}`,
    `  Where ${approver} runs tollgate: export ${APPROVER_KEY_VARIABLE}=${file}`,
  ]);
  return Promise.resolve(ExitCode.Ok);
}

/** Prints the keys-file entry of the key in `keyfile` (a private key, or a public key PEM). */
export function keysShow(keyfile: string, options: KeysShowOptions): Promise<number> {
  const approver = approverName(options.approver ?? basename(keyfile).replace(/\.key$/, ''), '--approver');
  let publicKey: KeyObject;
  try {
    publicKey = readPublicKeyOf(keyfile);
  } catch (error) {
    throw new ExitError(ExitCode.BadInput, (error as Error).message);
  }
  print(approver, publicKey, options.json, [`${approver}'s key ${keyIdOf(publicKey)} (${resolve(keyfile)})`]);
  return Promise.resolve(ExitCode.Ok);
}

/** The entry, as a JSON object with --json (for `jq -s add`), else with what to do with it. */
function print(approver: string, publicKey: KeyObject, json: boolean | undefined, intro: string[]): void {
  const entry = publicKeyEntry(publicKey);
  if (json) {
    console.log(JSON.stringify({ [approver]: entry }));
    return;
  }
  console.log(
    [
      ...intro,
      `  Add this entry to the JSON object in the worker's ${APPROVER_KEYS_VARIABLE} file:`,
      `    ${JSON.stringify(approver)}: ${JSON.stringify(entry)}`,
    ].join('\n'),
  );
}

/** An approver name that is also a safe file name: what they pass as --by. */
function approverName(name: string, option: string): string {
  const trimmed = name.trim();
  // eslint-disable-next-line no-control-regex
  if (!trimmed || trimmed.startsWith('.') || /[/\\\u0000-\u001f]/.test(trimmed)) {
    throw new ExitError(
      ExitCode.BadInput,
      `${option} ${JSON.stringify(name)} is not an approver name: use the name they decide as (--by), without slashes, e.g. ${option} alice`,
    );
  }
  return trimmed;
}
