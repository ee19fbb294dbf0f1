import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExitCode, FlotillaError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LogCode } from '../log-codes.js';
import { ReplayGuard, verifyRequest, AUTH_HEADERS } from './auth.js';
import type { ErrorBody } from './sync.js';

/** Management requests are small JSON documents; anything larger is refused before it is read. */
export const DEFAULT_MAX_BODY = 1024 * 1024;
/** A client that has not sent its headers by then is gone or hostile. */
const HEADERS_TIMEOUT_MS = 10_000;
/** Upper bound for receiving a whole request (not for streaming a response). */
const REQUEST_TIMEOUT_MS = 60_000;

export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Buffer;
  /** The authenticated sender's name (a server of the domain, or a command-line client). */
  sender: string;
  request: IncomingMessage;
  response: ServerResponse;
}

/** Returned by a handler that wrote the response itself (a stream, a file). */
export const HANDLED = Symbol('handled');

export interface Route {
  method: 'GET' | 'POST';
  /** `/v1/servers/:server/report`: `:name` segments become params. */
  path: string;
  maxBody?: number;
  /**
   * Served without a signed request: for clients that cannot sign (a browser, Prometheus). Such a
   * handler authenticates the request its own way (a console session, a metrics token); it gets
   * no body unless it sets maxBody, and `sender` is empty.
   */
  public?: true;
  handle(context: RequestContext): Promise<unknown> | unknown;
}

export interface ManagementServerOptions {
  key: Uint8Array;
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

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The authenticated HTTP server of the MASTER and of every MS management port. Every request is
 * checked against the domain key before its handler runs; refused ones get 401 and a log line.
 * The only exceptions are the routes marked `public`, which authenticate on their own.
 */
export function createManagementServer(options: ManagementServerOptions): Server {
  const guard = new ReplayGuard();
  const routes = options.routes.map((route) => ({ route, ...compile(route.path) }));

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://management');
    let match: { route: Route; params: Record<string, string> } | undefined;
    for (const candidate of routes) {
      if (candidate.route.method !== request.method) continue;
      const found = candidate.regex.exec(url.pathname);
      if (found) {
        const params = Object.fromEntries(candidate.names.map((name, i) => [name, decodeURIComponent(found[i + 1]!)]));
        match = { route: candidate.route, params };
        break;
      }
    }
    const remote = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    try {
      const isPublic = match?.route.public === true;
      const body = await readBody(request, match?.route.maxBody ?? (isPublic ? 0 : DEFAULT_MAX_BODY));
      if (body === undefined) {
        // The rest of the body is not read: the connection cannot carry another request.
        response.setHeader('connection', 'close');
        sendJson(response, 413, { error: 'request body too large', exitCode: ExitCode.usage } satisfies ErrorBody);
        return;
      }
      const failure = isPublic ? undefined : verifyRequest(options.key, guard, request.method ?? '', request.url ?? '', request.headers, body);
      if (failure) {
        options.logger.warn(options.unauthorizedCode, `refused an unauthenticated request (${failure}) from ${remote}: ${request.method} ${url.pathname}`);
        sendJson(response, 401, { error: `unauthorized (${failure}): requests must be signed with the domain key`, exitCode: ExitCode.usage } satisfies ErrorBody);
        return;
      }
      if (!match) {
        sendJson(response, 404, { error: `no such endpoint ${request.method} ${url.pathname}`, exitCode: ExitCode.failed } satisfies ErrorBody);
        return;
      }
      const result = await match.route.handle({
        params: match.params,
        query: url.searchParams,
        body,
        sender: isPublic ? '' : String(request.headers[AUTH_HEADERS.sender]),
        request,
        response,
      });
      if (result !== HANDLED) sendJson(response, 200, result ?? {});
    } catch (error) {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const exitCode = error instanceof FlotillaError ? error.exitCode : ExitCode.failed;
      if (!(error instanceof FlotillaError)) options.logger.error('SYS-0001', `request ${request.method} ${url.pathname} failed: ${(error as Error).stack}`);
      sendJson(response, STATUS_FOR_EXIT[exitCode] ?? 500, { error: (error as Error).message, exitCode } satisfies ErrorBody);
    }
  });
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = 5_000;
  return server;
}

/** Listens, turning the usual failures into messages that say what to do. */
export async function listen(server: Server, address: string, port: number, what: string): Promise<AddressInfo> {
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
