/**
 * AES-256-GCM payload encryption with a key ring, after the Temporal samples' encryption codec.
 *
 * An encrypted payload has metadata `encoding: binary/encrypted` and `encryption-key-id: <id>`;
 * its data is a 12-byte random IV, then the original Payload protobuf (metadata and data)
 * encrypted, then the 16-byte GCM tag. Payloads without that encoding pass through decode
 * unchanged, so runs from before encryption was turned on stay readable.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  METADATA_ENCODING_KEY,
  type DataConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import proto from '@temporalio/proto';
import { KEY_FILE_VARIABLE, KEY_VARIABLE, type EncryptionKey } from './keys.js';

/** The `encoding` of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata key naming the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';

const ProtoPayload = proto.temporal.api.common.v1.Payload;
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A payload the loaded keys cannot decrypt: unknown key id, altered data, or not an encrypted payload after all. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

/** Encrypts with the first key, decrypts with any key in the ring. */
export class EncryptionCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Buffer>;
  /** The id new payloads carry. */
  readonly encryptingKeyId: string;

  constructor(keys: readonly EncryptionKey[]) {
    const [first] = keys;
    if (!first) throw new Error('EncryptionCodec needs at least one key');
    this.encryptingKeyId = first.id;
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** Every loaded key id, the encrypting one first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((payload) => this.encrypt(payload))));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    // An executor that throws rejects: a payload the keys cannot read fails the whole call.
    return new Promise((resolve) => resolve(payloads.map((payload) => this.decrypt(payload))));
  }

  private encrypt(payload: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keys.get(this.encryptingKeyId)!, iv);
    const plain = ProtoPayload.encode(payload).finish();
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: Buffer.from(this.encryptingKeyId),
      },
      data: Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    if (!idBytes) {
      throw new PayloadDecryptionError(`encrypted payload has no ${KEY_ID_METADATA} metadata`);
    }
    const keyId = Buffer.from(idBytes).toString();
    const key = this.keys.get(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        `payload was encrypted with key id ${JSON.stringify(keyId.slice(0, 64))}, which is not loaded (loaded: ${this.keyIds.join(', ')}): add that key, after the encrypting one, to ${KEY_VARIABLE} or ${KEY_FILE_VARIABLE}`,
      );
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(
        `payload encrypted with key id "${keyId}" is ${data.length} bytes, shorter than its IV and tag: it was truncated`,
      );
    }
    const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(
        `payload encrypted with key id "${keyId}" failed authentication: its data was altered, or key "${keyId}" is not the key it was encrypted with`,
      );
    }
    let inner: ReturnType<typeof ProtoPayload.decode>;
    try {
      inner = ProtoPayload.decode(plain);
    } catch (error) {
      throw new PayloadDecryptionError(
        `payload encrypted with key id "${keyId}" decrypts to something other than a Payload protobuf (${(error as Error).message})`,
      );
    }
    // A plain object: the SDK reads fields, and the decoded message's defaults live on its prototype.
    return {
      metadata: { ...inner.metadata },
      ...(inner.data?.length ? { data: inner.data } : {}),
      ...(inner.externalPayloads?.length ? { externalPayloads: inner.externalPayloads } : {}),
    };
  }
}

/** The data converter for client, worker and tests: the encryption codec over the default payload converter. */
export function encryptionDataConverter(keys: readonly EncryptionKey[]): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/** Failure messages and stack traces encoded as payloads, so they are encrypted too (see failure-converter.ts). */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.js', import.meta.url));

/** The encryption codec in a data converter, if there is one. */
export function encryptionCodecOf(dataConverter: DataConverter | undefined): EncryptionCodec | undefined {
  return dataConverter?.payloadCodecs?.find(
    (codec): codec is EncryptionCodec => codec instanceof EncryptionCodec,
  );
}
