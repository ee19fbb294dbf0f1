import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { ExitCode, FlotillaError } from '../errors.js';
import { storageError } from '../storage-error.js';
import type { Logger } from '../log.js';
import type { LogCode } from '../log-codes.js';
import { FLOTILLA_SERVER_NAME, TLS_CIPHER_SUITES, TLS_MIN_VERSION } from '../tls/options.js';
import { ANSWER_SIGNATURE_HEADER, ReplayGuard, answerSignature, bodyHash, verifyRequestHeaders } from './auth.js';
import { CONNECTION_LIMITS, PeerConnections } from './connection-limits.js';
import type { ErrorBody } from './sync.js';

/** Management requests are small JSON documents; anything larger is refused before it is read. */
export const DEFAULT_MAX_BODY = 1024 * 1024;

export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Empty for a streamed route: its handler reads `request` itself. */
  body: Buffer;
  /** What a streamed route's body must hash to (SHA-256, hex), as the request's signature says. */
  bodyHash: string;
  /** The authenticated sender's name (a server of the domain, or a command-line client). */
  sender: string;
  request: IncomingMessage;
  response: ServerResponse;
}

/** Returned by a handler that wrote the response itself (a stream, a file). */
export const HANDLED = Symbol('handled');

export interface Route {
  method: 'GET' | 'POST';
  /** `/v2/servers/:server/report`: `:name` segments become params. */
  path: string;
  maxBody?: number;
  /**
   * The body is not read before the handler runs: it streams `request` itself (an upload), checks
   * it against `bodyHash` and stays within maxBody. A declared length above maxBody is refused first.
   */
  stream?: true;
  /**
   * Served without a signed request: for clients that cannot sign (a browser, Prometheus, a
   * machine at its first contact). Such a handler authenticates the request its own way (a
   * console session, a metrics token, a proof); it gets no body unless it sets maxBody, and
   * `sender` is empty.
   */
  public?: true;
  /**
   * A public route that takes a body checks its headers (a session, a token) here, before a byte
   * of the body is read: an unauthenticated request costs almost nothing (docs/security.md).
   * Returns false having answered the refusal itself.
   */
  admit?(request: IncomingMessage, response: ServerResponse): boolean;
  handle(context: RequestContext): Promise<unknown> | unknown;
}

/** The certificate a management port presents, and its key (PEM). */
export interface TlsCredentials {
  key: string;
  cert: string;
}

export interface ManagementServerOptions {
  /** The domain key now: read at every request, so a rotation (master rotate-key) takes effect at once. */
  key: () => Uint8Array;
  /** This server's identity (tls/identity.ts): requests signed for any other are refused. */
  identity: string;
  tls: TlsCredentials;
  /** Presented instead to clients that ask for another server name than Flotilla's own (config: master.consoleCertificate). */
  browserTls?: TlsCredentials;
  routes: Route[];
  logger: Logger;
  /** Log code for refused (401) requests: MA-… on the MASTER, MS-… on a managed server. */
  unauthorizedCode: LogCode;
}

/** HTTP status for each exit code a handler's error carries, so the client can map it back. */
const STATUS_FOR_EXIT: Record<number, number> = {
  [ExitCode.usage]: 400,
  [ExitCode.unreachable]: 503,
  [ExitCode.integrity]: 422,
  [ExitCode.failed]: 500,
};

function compile(path: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path.replace(/:([A-Za-z][A-Za-z0-9]*)/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { regex: new RegExp(`^${source}$`), names };
}

/** The key and nonce of the signed request being answered: its answer is signed with them (auth.ts). */
export interface AnswerSigner {
  key: Uint8Array;
  nonce: string;
}

/**
 * An answer already serialised, which a handler returns instead of an object: one the MASTER sends
 * to every server alike (the generation's manifest) is serialised, and hashed for its signatures,
 * once rather than per request.
 */
export class JsonText {
  private sha256?: string;

  constructor(readonly text: Buffer) {}

  get hash(): string {
    this.sha256 ??= bodyHash(this.text);
    return this.sha256;
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, signer?: AnswerSigner): void {
  const json = body instanceof JsonText ? body : new JsonText(Buffer.from(JSON.stringify(body)));
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': json.text.length,
    ...(signer && { [ANSWER_SIGNATURE_HEADER]: answerSignature(signer.key, signer.nonce, status, json.hash) }),
  });
  response.end(json.text);
}

/** Refuses a request without reading its body: the connection cannot carry another, so it closes. */
function refuse(response: ServerResponse, status: number, body: ErrorBody, signer?: AnswerSigner): void {
  response.setHeader('connection', 'close');
  sendJson(response, status, body, signer);
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (!(declared <= limit)) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

interface CompiledRoute {
  route: Route;
  regex: RegExp;
  names: string[];
}

function findRoute(routes: CompiledRoute[], method: string | undefined, pathname: string): { route: Route; params: Record<string, string> } | undefined {
  for (const candidate of routes) {
    if (candidate.route.method !== method) continue;
    const found = candidate.regex.exec(pathname);
    if (found) {
      // Throws URIError on a malformed escape: the caller answers 400.
      const params = Object.fromEntries(candidate.names.map((name, i) => [name, decodeURIComponent(found[i + 1]!)]));
      return { route: candidate.route, params };
    }
  }
  return undefined;
}

/**
 * The authenticated HTTPS server of the MASTER and of every MS management port (docs/security.md).
 * Every request's signature is checked, against the domain key and this server's identity,
 * before its body is read and before its handler runs; refused ones get 401 and a log line. The
 * only exceptions are the routes marked `public`, which authenticate on their own. Connections
 * that have not yet carried an authenticated request are bounded (connection-limits.ts), so
 * strangers cost almost nothing.
 */
export function createManagementServer(options: ManagementServerOptions): Server {
  const guard = new ReplayGuard();
  const routes = options.routes.map((route) => ({ route, ...compile(route.path) }));
  const connections = new PeerConnections();

  const browser = options.browserTls && createSecureContext({ ...options.browserTls, minVersion: TLS_MIN_VERSION });
  const server = createServer(
    {
      ...options.tls,
      minVersion: TLS_MIN_VERSION,
      ciphers: TLS_CIPHER_SUITES,
      handshakeTimeout: CONNECTION_LIMITS.handshakeTimeoutMs,
      // Flotilla's clients name FLOTILLA_SERVER_NAME, and a client naming no host (an address) gets the domain's too.
      SNICallback: (servername, done) => done(null, browser && servername !== FLOTILLA_SERVER_NAME ? browser : undefined),
    },
    async (request, response) => {
      const remote = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
      let pathname = '/';
      /** Set once the request's signature checked out: every answer to it is signed from then on. */
      let signer: AnswerSigner | undefined;
      try {
        const url = new URL(request.url ?? '/', 'https://management');
        pathname = url.pathname;
        let match: ReturnType<typeof findRoute>;
        try {
          match = findRoute(routes, request.method, url.pathname);
        } catch {
          return refuse(response, 400, { error: `malformed escape in ${JSON.stringify(url.pathname.slice(0, 200))}`, exitCode: ExitCode.usage });
        }
        const isPublic = match?.route.public === true;
        let sender = '';
        let expectedHash: string | undefined;
        if (!isPublic) {
          // One key for the check and the answer: a rotation that lands meanwhile (POST /v2/key)
          // must not leave the sender with an answer signed by a key it does not hold yet.
          const key = options.key();
          const verified = verifyRequestHeaders(key, guard, { method: request.method ?? '', path: request.url ?? '', receiver: options.identity }, request.headers);
          if ('failure' in verified) {
            options.logger.warn(options.unauthorizedCode, `refused an unauthenticated request (${verified.failure}) from ${remote}: ${request.method} ${url.pathname.slice(0, 200)}`);
            return refuse(response, 401, { error: `unauthorized (${verified.failure}): requests must be signed with the domain key, for this server`, exitCode: ExitCode.usage });
          }
          connections.authenticated(request.socket);
          signer = { key, nonce: verified.nonce };
          sender = verified.sender;
          expectedHash = verified.bodyHash;
        }
        if (isPublic && match?.route.admit) {
          // A refused body is never read: the connection ends with the refusal.
          response.setHeader('connection', 'close');
          if (!match.route.admit(request, response)) return;
          response.removeHeader('connection');
        }
        const limit = match?.route.maxBody ?? (isPublic ? 0 : DEFAULT_MAX_BODY);
        if (match?.route.stream && expectedHash !== undefined) {
          if (!(Number(request.headers['content-length'] ?? 0) <= limit)) return refuse(response, 413, { error: `request body too large: at most ${limit} bytes`, exitCode: ExitCode.usage }, signer);
          const result = await match.route.handle({ params: match.params, query: url.searchParams, body: Buffer.alloc(0), bodyHash: expectedHash, sender, request, response });
          if (result !== HANDLED) sendJson(response, 200, result ?? {}, signer);
          return;
        }
        const body = await readBody(request, limit);
        if (body === undefined) return refuse(response, 413, { error: 'request body too large', exitCode: ExitCode.usage }, signer);
        if (expectedHash !== undefined && bodyHash(body) !== expectedHash) {
          options.logger.warn(options.unauthorizedCode, `refused a request from ${remote} whose body is not the one signed: ${request.method} ${url.pathname.slice(0, 200)}`);
          return refuse(response, 401, { error: 'unauthorized (bad-body): the body is not the one that was signed', exitCode: ExitCode.usage });
        }
        if (!match) return sendJson(response, 404, { error: `no such endpoint ${request.method} ${url.pathname.slice(0, 200)}`, exitCode: ExitCode.failed } satisfies ErrorBody, signer);
        // A public request that its handler accepted vouches for its connection too.
        if (isPublic) response.once('finish', () => response.statusCode < 400 && connections.authenticated(request.socket));
        const result = await match.route.handle({ params: match.params, query: url.searchParams, body, bodyHash: bodyHash(body), sender, request, response });
        if (result !== HANDLED) sendJson(response, 200, result ?? {}, signer);
      } catch (error) {
        if (response.headersSent) {
          response.destroy();
          return;
        }
        // A full disk or a permission on this side: logged and answered with its path, as the binaries say it.
        const storage = storageError(error);
        if (storage) {
          options.logger.error('SYS-0004', `request ${request.method} ${pathname.slice(0, 200)} failed: ${storage.message}`);
          error = storage;
        }
        const exitCode = error instanceof FlotillaError ? error.exitCode : ExitCode.failed;
        if (!(error instanceof FlotillaError)) options.logger.error('SYS-0001', `request ${request.method} ${pathname.slice(0, 200)} failed: ${(error as Error).stack}`);
        sendJson(response, STATUS_FOR_EXIT[exitCode] ?? 500, { error: (error as Error).message, exitCode } satisfies ErrorBody, signer);
      }
    },
  );
  server.on('connection', (socket: Socket) => connections.admit(socket));
  // A failed handshake (a plain-HTTP client, a scanner) is the client's problem, not a log line each.
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  server.maxConnections = CONNECTION_LIMITS.maxConnections;
  server.headersTimeout = CONNECTION_LIMITS.headersTimeoutMs;
  server.requestTimeout = CONNECTION_LIMITS.requestTimeoutMs;
  server.keepAliveTimeout = CONNECTION_LIMITS.keepAliveTimeoutMs;
  return server;
}

/** Listens, turning the usual failures into messages that say what to do. */
export async function listen(server: NetServer, address: string, port: number, what: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const reason =
        error.code === 'EADDRINUSE'
          ? `${address}:${port} is already in use (another server, or this one still running?)`
          : error.code === 'EADDRNOTAVAIL'
            ? `${address} is not an address of this machine`
            : error.message;
      reject(new FlotillaError(`${what} cannot listen: ${reason}`, ExitCode.failed, { cause: error }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, address);
  });
  return server.address() as AddressInfo;
}
