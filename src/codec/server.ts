/**
 * The Temporal remote codec protocol over node:http, so the Temporal UI and CLI can show encrypted payloads:
 * `POST /encode` and `POST /decode` take and answer `{"payloads": [{"metadata": {k: base64}, "data": base64}]}`
 * (proto3 JSON), with CORS for the UI's origin.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { PayloadDecryptionError } from './codec.js';

/** How the codec HTTP server answers. */
export interface CodecHttpOptions {
  codec: PayloadCodec;
  /** Origins allowed to call it (the Temporal UI); a request from another origin gets the first one back. */
  origins: string[];
  /** Where unexpected errors are reported (a 500 answer says only "internal error"). */
  log?: (line: string) => void;
}

/** A payload in proto3 JSON: bytes as base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** Largest request body accepted; a page of history payloads stays far below it. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const ROUTES = ['/encode', '/decode'] as const;

/** An answer with a status and a message for the caller. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The server (not yet listening). */
export function createCodecServer(options: CodecHttpOptions): Server {
  return createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) options.log?.(`codec server: ${request.method} ${request.url}: ${String(error)}`);
      const message = status === 500 ? 'internal error' : (error as Error).message;
      if (!response.headersSent) send(response, status, { error: message });
      else response.destroy();
    });
  });
}

/** Starts the server on host:port (0 for any free port) and returns it with its URL. */
export async function startCodecServer(
  options: CodecHttpOptions & { host: string; port: number },
): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createCodecServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(
  options: CodecHttpOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://codec').pathname;
  cors(options.origins, request, response);
  const route = ROUTES.find((r) => r === path);
  if (!route) throw new HttpError(404, `no route ${path}: POST /encode or /decode`);
  if (request.method === 'OPTIONS') {
    response.writeHead(204).end();
    return;
  }
  if (request.method !== 'POST') {
    response.setHeader('Allow', 'POST, OPTIONS');
    throw new HttpError(405, `${route} takes POST`);
  }
  const payloads = parsePayloads(await readBody(request));
  let result: Payload[];
  try {
    result =
      route === '/encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
  } catch (error) {
    // The loaded keys cannot read these payloads: the caller's problem, and the message names no key.
    if (error instanceof PayloadDecryptionError) throw new HttpError(400, error.message);
    throw error;
  }
  send(response, 200, { payloads: result.map(toJson) });
}

/** CORS for the Temporal UI: it sends cookies (credentials) and the x-namespace header. */
function cors(origins: string[], request: IncomingMessage, response: ServerResponse): void {
  const origin = request.headers.origin;
  response.setHeader(
    'Access-Control-Allow-Origin',
    origin && origins.includes(origin) ? origin : (origins[0] ?? 'null'),
  );
  response.setHeader('Vary', 'Origin');
  response.setHeader('Access-Control-Allow-Credentials', 'true');
  response.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
  response.setHeader('Access-Control-Allow-Headers', 'content-type,x-namespace,authorization');
  response.setHeader('Access-Control-Max-Age', '600');
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even when too large: leaving the loop early destroys the socket, and the 413 with it.
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body is over ${MAX_BODY_BYTES} bytes`);
  return Buffer.concat(chunks).toString('utf8');
}

/** The request's payloads, or a 400 saying what is wrong with the body. */
function parsePayloads(body: string): Payload[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new HttpError(
      400,
      `request body is not JSON (${(error as Error).message}): send {"payloads": [{"metadata": {...}, "data": "<base64>"}]}`,
    );
  }
  const list = (json as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(list)) {
    throw new HttpError(400, 'request body has no "payloads" array: send {"payloads": [...]}');
  }
  return list.map((item, index) => fromJson(item, `payloads[${index}]`));
}

function fromJson(item: unknown, where: string): Payload {
  if (typeof item !== 'object' || item === null) throw new HttpError(400, `${where} is not an object`);
  const { metadata = {}, data } = item as { metadata?: unknown; data?: unknown };
  if (typeof metadata !== 'object' || metadata === null) {
    throw new HttpError(400, `${where}.metadata is not an object`);
  }
  const bytes = (value: unknown, field: string): Buffer => {
    if (typeof value !== 'string' || !BASE64.test(value)) {
      throw new HttpError(400, `${where}.${field} is not a base64 string`);
    }
    return Buffer.from(value, 'base64');
  };
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata).map(([key, value]) => [key, bytes(value, `metadata.${key}`)]),
    ),
    ...(data === undefined || data === null ? {} : { data: bytes(data, 'data') }),
  };
}

function toJson(payload: Payload): JsonPayload {
  const base64 = (value: Uint8Array): string => Buffer.from(value).toString('base64');
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, base64(v)])),
    ...(payload.data && payload.data.length > 0 ? { data: base64(payload.data) } : {}),
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
