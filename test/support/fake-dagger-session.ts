/**
 * A fake Dagger engine session for contract tests: an HTTP server on 127.0.0.1 that speaks the SDK's
 * wire protocol (`POST /query`, `Authorization: Basic base64(token + ":")`), records every query and
 * answers from a script. Point the SDK at it with `session.env` (DAGGER_SESSION_PORT/TOKEN).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** The digest the fake reports for `digest` and `publish` unless a rule says otherwise. */
export const FAKE_DIGEST = `sha256:${'ab'.repeat(32)}`;
/** The size the fake reports for `size`. */
export const FAKE_SIZE = 48_000_000;

/** How the fake answers one query. */
export type FakeReply =
  /** Data: the query's field path nested as single-key objects, ending in this value. */
  | { value: unknown }
  /** An exec failure, as the engine reports it (the SDK raises ExecError, code D109). */
  | { execError: { cmd: string[]; exitCode: number; stdout?: string; stderr?: string; message?: string } }
  /** Any other GraphQL error (the SDK raises GraphQLRequestError, code D100). */
  | { error: string }
  /** Drop the connection without answering (the SDK raises UnknownDaggerError D101, cause ECONNRESET). */
  | { reset: true }
  /** Never answer (for timeouts and cancellation); the request ends when the session closes. */
  | { hang: true };

/** One line of a script: the first rule whose `when` matches a query answers it. */
export interface FakeRule {
  /** A substring of the query text, a pattern, or a predicate. */
  when: string | RegExp | ((query: string) => boolean);
  reply: FakeReply | ((query: string) => FakeReply);
  /** Answer one query only, then step aside. */
  once?: boolean;
}

/**
 * The engine's cache of exec results, modelled: an exec chain (the query without its leaf) runs
 * once, through `run`, and every later query of the same chain, whichever leaf it reads, is answered
 * from that first result, a failure as well as a pass, as a real engine does.
 */
export interface ExecModel {
  run(chain: string): { exitCode: number; output: string };
}

/** A running fake session. */
export interface FakeDaggerSession {
  port: number;
  token: string;
  /** Every query text received, in order. */
  queries: string[];
  /** With an ExecModel: each exec chain the fake actually ran (cache misses), in order. */
  executions: string[];
  /** The variables that point the SDK at this session. */
  env: { DAGGER_SESSION_PORT: string; DAGGER_SESSION_TOKEN: string };
  /** Stops listening and drops open connections (hanging requests included). */
  close(): Promise<void>;
}

/** Starts a fake session answering by `script`, then by `execs` (when given), then by defaults (see defaultReply). */
export async function start(script: FakeRule[] = [], execs?: ExecModel): Promise<FakeDaggerSession> {
  const token = randomBytes(12).toString('hex');
  const expectedAuth = `Basic ${Buffer.from(`${token}:`).toString('base64')}`;
  const queries: string[] = [];
  const executions: string[] = [];
  const cache = new Map<string, { exitCode: number; output: string }>();
  const cachedExec = (query: string): FakeReply | undefined => {
    const leaf = fieldPath(query).at(-1) ?? '';
    if (!execs || !EXEC_LEAVES.has(leaf) || !query.includes('withExec')) return undefined;
    const chain = query.slice(0, query.lastIndexOf(leaf));
    let result = cache.get(chain);
    if (!result) {
      result = execs.run(chain);
      cache.set(chain, result);
      executions.push(chain);
    }
    return { value: leaf === 'exitCode' ? result.exitCode : result.output };
  };
  const used = new Set<FakeRule>();
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      if (req.method !== 'POST' || req.url !== '/query')
        return send(res, 404, { errors: [{ message: 'not found' }] });
      if (req.headers.authorization !== expectedAuth)
        return send(res, 401, { errors: [{ message: 'unauthorized' }] });
      const query = (JSON.parse(body) as { query: string }).query;
      queries.push(query);
      const rule = script.find((r) => !used.has(r) && matches(r.when, query));
      if (rule?.once) used.add(rule);
      // The engine creates an exported directory on the host even when it is empty.
      if (!rule && isDirectoryExport(query)) mkdirSync(stringArg(query, 'path') ?? '', { recursive: true });
      const reply = rule
        ? typeof rule.reply === 'function'
          ? rule.reply(query)
          : rule.reply
        : (cachedExec(query) ?? defaultReply(query));
      answer(req, res, query, reply);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    token,
    queries,
    executions,
    env: { DAGGER_SESSION_PORT: String(port), DAGGER_SESSION_TOKEN: token },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The leaves that read an exec's result. */
const EXEC_LEAVES = new Set(['exitCode', 'combinedOutput', 'stdout', 'stderr']);

/**
 * An image the engine cannot resolve: every query that starts from it fails as the engine fails
 * it (a GraphQL error, which the SDK raises as GraphQLRequestError, D100).
 */
export function missingImage(image: string): FakeRule {
  return {
    when: `from (address: ${JSON.stringify(image)})`,
    // What engine v0.21.9 answered for a missing image (the platform part aside).
    reply: {
      error: `failed to resolve image "${image}" (platform: "linux/amd64"): ${image}: not found`,
    },
  };
}

/** A port on 127.0.0.1 with nothing listening: connecting to it is refused (ECONNREFUSED, D108). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The field names of a query from the root to the leaf, arguments and fragments left out. */
export function fieldPath(query: string): string[] {
  const withoutStrings = query.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  let depth = 0;
  let outside = '';
  for (const char of withoutStrings) {
    if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    else if (depth === 0) outside += char;
  }
  const names = outside.replace(/\.\.\.\s*on\s+\w+/g, '').match(/[A-Za-z_]\w*/g);
  return names ?? [];
}

/**
 * What an engine would plausibly answer when no rule matches: ids for `id`, success for
 * `exitCode`, empty output, the requested path for `export`, FAKE_DIGEST for digests.
 */
export function defaultReply(query: string): FakeReply {
  const path = fieldPath(query);
  const leaf = path.at(-1) ?? '';
  switch (leaf) {
    case 'id':
    case 'sync':
      return { value: `fake-${path.at(-2) ?? 'root'}-id` };
    case 'version':
      return { value: 'v0.21.9' };
    case 'exitCode':
      return { value: 0 };
    case 'export':
      return { value: stringArg(query, 'path') ?? '' };
    case 'publish':
      return { value: `${stringArg(query, 'address') ?? 'image'}@${FAKE_DIGEST}` };
    case 'digest':
      return { value: FAKE_DIGEST };
    case 'imageRef':
      return { value: `${stringArg(query, 'address') ?? 'image'}@${FAKE_DIGEST}` };
    case 'size':
      return { value: FAKE_SIZE };
    default:
      return { value: '' };
  }
}

/** True for `Directory.export` (not a container's or a file's): `... directory (path: ...) { export (path: ...) }`. */
export function isDirectoryExport(query: string): boolean {
  const path = fieldPath(query);
  return path.at(-1) === 'export' && path.at(-2) === 'directory';
}

/**
 * A rule for `Directory.export`: `fill` writes the directory's files into the requested host path,
 * as the engine would, and the answer is the path (what the SDK returns).
 */
export function onDirectoryExport(fill: (path: string) => void): FakeRule {
  return {
    when: isDirectoryExport,
    reply: (query) => {
      const path = stringArg(query, 'path') ?? '';
      mkdirSync(path, { recursive: true });
      fill(path);
      return { value: path };
    },
  };
}

/** The value of the last string argument `name: "..."` in a query (the leaf's), when present. */
export function stringArg(query: string, name: string): string | undefined {
  const pattern = new RegExp(`\\b${name}\\s*:\\s*("(?:[^"\\\\]|\\\\.)*")`, 'g');
  const last = [...query.matchAll(pattern)].at(-1)?.[1];
  return last === undefined ? undefined : (JSON.parse(last) as string);
}

function matches(when: FakeRule['when'], query: string): boolean {
  if (typeof when === 'string') return query.includes(when);
  if (when instanceof RegExp) return when.test(query);
  return when(query);
}

function answer(req: IncomingMessage, res: ServerResponse, query: string, reply: FakeReply): void {
  if ('hang' in reply) return;
  if ('reset' in reply) {
    req.socket.destroy();
    return;
  }
  if ('error' in reply) return send(res, 200, { errors: [{ message: reply.error }], data: null });
  if ('execError' in reply) {
    const { cmd, exitCode, stdout = '', stderr = '', message } = reply.execError;
    const extensions = { _type: 'EXEC_ERROR', cmd, exitCode, stdout, stderr };
    return send(res, 200, {
      errors: [
        {
          message:
            message ?? `process "${cmd.join(' ')}" did not complete successfully: exit code: ${exitCode}`,
          extensions,
        },
      ],
      data: null,
    });
  }
  const data = fieldPath(query).reduceRight<unknown>((inner, field) => ({ [field]: inner }), reply.value);
  send(res, 200, { data });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
