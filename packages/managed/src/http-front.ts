import { STATUS_CODES, createServer, request as upstream, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendJson } from '@flotilla/core';
import type { Route } from './apps/app-manager.js';
import type { AppProcess } from './apps/app-process.js';
import type { UpstreamCall, UpstreamConnection } from './apps/upstream.js';
import { RETRY_AFTER_S } from './apps/restart-policy.js';
import { normaliseRequestPath } from './request-path.js';

/** Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection and are not forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** What node:http's client refuses in a path too: controls, spaces, and what latin1 cannot write. */
const UNSAFE_TARGET = /[^\u0021-\u00ff]/;

export interface FrontOptions {
  health: () => { status: string } & Record<string, unknown>;
  route: (path: string) => Route | undefined;
  /** Each proxied request whose answer started: the application, the HTTP status, the seconds it took. */
  observe?: (app: string, status: number, seconds: number) => void;
}

/** What the front answers itself: a status, a JSON body, and headers such as Retry-After. */
interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Where a request goes: an application's ready version and the path it sees, or an answer. */
type Decision = { app: AppProcess; prefix: string; path: string } | Answer;

/** 503 with Retry-After: the application has no ready instance, or (`why`) its instance did not answer this request. */
function unavailable(name: string, why?: string): Answer {
  const what = why ? `did not answer (${why})` : 'has no ready instance (starting or restarting)';
  return {
    status: 503,
    body: { error: `application ${name} ${what}; retry in ${RETRY_AFTER_S} s` },
    headers: { 'retry-after': String(RETRY_AFTER_S) },
  };
}

function decide(request: IncomingMessage, options: FrontOptions): Decision {
  const target = normaliseRequestPath(request.url ?? '/');
  if ('refused' in target) return { status: 400, body: { error: `bad request path: ${target.refused}` } };
  if (target.path === '/-/health') {
    const body = options.health();
    return { status: body.status === 'RUNNING' ? 200 : 503, body };
  }
  const route = options.route(target.path);
  if (!route) return { status: 404, body: { error: `no application serves ${target.path}` } };
  if (!route.app) return unavailable(route.name);
  // The application sees paths below its context: /hello/x → /x (the prefix is in X-Forwarded-Prefix).
  const below = target.path.slice(route.prefix.length);
  const path = `${below.startsWith('/') ? below : `/${below}`}${target.query}`;
  // The request line to the application is written as text: nothing in it may end or split it.
  if (UNSAFE_TARGET.test(path)) return { status: 400, body: { error: 'bad request path: a character a request line cannot carry' } };
  return { app: route.app, prefix: route.prefix, path };
}

/**
 * The request's headers as the application gets them, in the flat form (name, value, name, value),
 * read from the raw list, so that no header object is built per request (`request.headers` is built
 * lazily, on first use). Hop-by-hop headers are dropped, and Expect (Node's server has answered
 * `100 Continue` already); X-Forwarded-* are added. In the same pass, how the body is framed: a
 * request with neither Content-Length nor Transfer-Encoding has none, one with Transfer-Encoding is
 * sent on chunked (Node's server has decoded the client's chunks).
 */
function forwardedHeaders(request: IncomingMessage, prefix: string): { headers: string[]; hasBody: boolean; chunked: boolean } {
  const raw = request.rawHeaders;
  const headers: string[] = [];
  let prior: string | undefined;
  let host = '';
  let forwardedHost = false;
  let forwardedProto = false;
  let hasBody = false;
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'transfer-encoding') hasBody = chunked = true;
    if (HOP_BY_HOP.has(name) || name === 'expect') continue;
    if (name === 'x-forwarded-for') {
      prior = prior === undefined ? value : `${prior}, ${value}`;
      continue;
    }
    if (name === 'host' && !host) host = value;
    else if (name === 'content-length') hasBody ||= value !== '0';
    else if (name === 'x-forwarded-host') forwardedHost = true;
    else if (name === 'x-forwarded-proto') forwardedProto = true;
    headers.push(raw[i]!, value);
  }
  const address = request.socket.remoteAddress ?? '';
  const client = address.startsWith('::ffff:') ? address.slice(7) : address;
  headers.push('x-forwarded-for', prior ? `${prior}, ${client}` : client);
  if (!forwardedHost) headers.push('x-forwarded-host', host);
  if (!forwardedProto) headers.push('x-forwarded-proto', 'http');
  if (prefix) headers.push('x-forwarded-prefix', prefix);
  if (chunked) headers.push('transfer-encoding', 'chunked');
  return { headers, hasBody, chunked };
}

/** The head of the request to the application, as one string: written to its connection in one go. */
function requestHead(method: string, path: string, headers: string[]): string {
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}

function answer(response: ServerResponse, { status, body, headers }: Answer): void {
  for (const [name, value] of Object.entries(headers ?? {})) response.setHeader(name, value);
  sendJson(response, status, body);
}

/** Counts a request against its version (so a replaced one drains) and reports it once it ends. */
class InFlight {
  private readonly started = performance.now();
  private finished = false;

  constructor(
    protected readonly app: AppProcess,
    private readonly observe: FrontOptions['observe'],
  ) {
    app.inFlight += 1;
  }

  /** Once: with the status of an answer that started, or none (no answer, nothing to report). */
  finish(status?: number): void {
    if (this.finished) return;
    this.finished = true;
    this.app.inFlight -= 1;
    if (status !== undefined) this.observe?.(this.app.spec.name, status, (performance.now() - this.started) / 1000);
  }
}

/**
 * One request to the application (apps/upstream.ts), and the receiver of its answer: one object per
 * request, its methods on the prototype, rather than a closure for each callback. Backpressure: the
 * application's connection is paused while the client cannot take more, and the client's upload is
 * read as the application's connection takes it.
 */
class Exchange extends InFlight implements UpstreamCall {
  /** The connection while it carries this request: none once its answer has ended or failed. */
  private connection?: UpstreamConnection;
  /** What is left of a body of known length (NaN for a stream): its last chunk ends the answer. */
  private left = Number.NaN;
  private corked = false;

  constructor(
    private readonly response: ServerResponse,
    app: AppProcess,
    observe: FrontOptions['observe'],
    readonly method: string,
    readonly head: string,
    readonly body: IncomingMessage | null,
    readonly chunked: boolean,
  ) {
    super(app, observe);
    // 'close' comes once: `on` spares the wrapper `once` builds for each request.
    response.on('close', () => {
      // A client that went away takes its upstream request with it, so the application stops writing.
      this.connection?.abort();
      this.finish(response.headersSent ? response.statusCode : undefined);
    });
  }

  onConnection(connection: UpstreamConnection): void {
    this.connection = connection;
    if (this.response.destroyed) connection.abort();
  }

  onHead(status: number, reason: string, headers: string[]): void {
    // Hop-by-hop headers are the application's connection's (its Transfer-Encoding too: node:http
    // frames the answer anew). The parser refused an answer with both lengths.
    const forwarded: string[] = [];
    let length: string | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase();
      if (HOP_BY_HOP.has(name)) continue;
      if (name === 'content-length') length = headers[i + 1];
      forwarded.push(headers[i]!, headers[i + 1]!);
    }
    const response = this.response;
    try {
      response.writeHead(status, reason, forwarded);
    } catch {
      // A status line or header node:http will not write (a control character, say): not an answer.
      this.connection?.abort();
      this.onError(new Error('its answer has a status line or header that cannot be sent on'));
      return;
    }
    // A stream of unknown length (server-sent events, long polls) shows its head before its first
    // chunk. A body of known length goes out with its head in one write (node:http writes them
    // apart unless the socket is corked), and a small one with its end too.
    if (length === undefined) response.flushHeaders();
    else {
      this.left = Number(length);
      response.cork();
      this.corked = true;
    }
  }

  onBody(chunk: Buffer, written: (() => void) | undefined): boolean {
    const response = this.response;
    this.left -= chunk.length;
    if (this.left === 0) {
      response.end(chunk, written); // end uncorks
      return true;
    }
    const more = response.write(chunk, written);
    if (this.corked) {
      this.corked = false;
      response.uncork();
    }
    if (!more) response.once('drain', () => this.connection?.resume());
    return more;
  }

  onEnd(): void {
    this.connection = undefined;
    if (!this.response.writableEnded) this.response.end();
  }

  onError(error: Error): void {
    this.connection = undefined;
    // No answer started: the application is gone or going (a crash, a restart), or it answered
    // something that is not HTTP; clients retry, and the body says which. One that started is cut short.
    const response = this.response;
    if (response.headersSent || response.destroyed) response.destroy();
    else answer(response, unavailable(this.app.spec.name, error.message));
  }
}

function proxy(request: IncomingMessage, response: ServerResponse, { app, prefix, path }: { app: AppProcess; prefix: string; path: string }, observe: FrontOptions['observe']): void {
  const { headers, hasBody, chunked } = forwardedHeaders(request, prefix);
  const method = request.method ?? 'GET';
  app.upstream.request(new Exchange(response, app, observe, method, requestHead(method, path, headers), hasBody ? request : null, chunked));
}

/** An answer written on a connection that is no longer HTTP's to manage (an upgrade request). */
function answerRaw(socket: Duplex, { status, body, headers }: Answer): void {
  const text = JSON.stringify(body);
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, 'content-type: application/json', `content-length: ${Buffer.byteLength(text)}`, 'connection: close'];
  for (const [name, value] of Object.entries(headers ?? {})) lines.push(`${name}: ${value}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}

function statusHead(reply: IncomingMessage, skip: Set<string>): string {
  const lines = [`HTTP/1.1 ${reply.statusCode ?? 502} ${reply.statusMessage ?? ''}`];
  for (let i = 0; i < reply.rawHeaders.length; i += 2) {
    if (!skip.has(reply.rawHeaders[i]!.toLowerCase())) lines.push(`${reply.rawHeaders[i]}: ${reply.rawHeaders[i + 1]}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * An `Upgrade` request (WebSocket and others): the application's answer is relayed, and after a
 * 101 the two connections are joined byte for byte, each side paused while the other cannot keep
 * up (pipe's backpressure). A tunnel counts as in flight only for its handshake: a replaced version
 * is stopped after its HTTP requests drain, and its open tunnels close with it.
 */
function tunnel(request: IncomingMessage, socket: Duplex, head: Buffer, { app, prefix, path }: { app: AppProcess; prefix: string; path: string }, observe: FrontOptions['observe']): void {
  const flight = new InFlight(app, observe);
  const { headers } = forwardedHeaders(request, prefix);
  headers.push('connection', 'Upgrade', 'upgrade', String(request.headers.upgrade));
  const outgoing = upstream({ host: '127.0.0.1', port: app.port, method: request.method, path, headers, agent: false });
  socket.once('close', () => {
    outgoing.destroy();
    flight.finish();
  });
  outgoing.on('upgrade', (reply, appSocket, appHead) => {
    flight.finish(101);
    appSocket.on('error', () => socket.destroy());
    socket.on('error', () => appSocket.destroy());
    appSocket.once('close', () => socket.destroy());
    socket.once('close', () => appSocket.destroy());
    appSocket.setNoDelay(true);
    socket.write(`${statusHead(reply, new Set())}\r\n`);
    if (appHead.length > 0) socket.write(appHead);
    if (head.length > 0) appSocket.write(head);
    appSocket.pipe(socket);
    socket.pipe(appSocket);
  });
  outgoing.on('response', (reply) => {
    // The application declined the upgrade: its answer goes back, then the connection closes.
    flight.finish(reply.statusCode);
    socket.write(`${statusHead(reply, HOP_BY_HOP)}connection: close\r\n\r\n`);
    reply.pipe(socket);
  });
  outgoing.on('error', () => {
    if (socket.writable) answerRaw(socket, unavailable(app.spec.name));
  });
  request.pipe(outgoing);
}

/**
 * The applications' HTTP port: each request goes to the application whose context is the longest
 * prefix of its normalised path (docs/applications.md). Management endpoints are never served here
 * (docs/contract.md#applications): only `/-/health`, and the applications themselves.
 */
export function createHttpFront(options: FrontOptions): Server {
  const server = createServer((request, response) => {
    const decision = decide(request, options);
    if ('status' in decision) answer(response, decision);
    else proxy(request, response, decision, options.observe);
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy()); // a client that resets mid-handshake ends only itself
    const decision = decide(request, options);
    if ('status' in decision) answerRaw(socket, decision);
    else tunnel(request, socket, head, decision, options.observe);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 0; // streaming uploads and long polls are the applications' business
  server.keepAliveTimeout = 5_000;
  return server;
}
