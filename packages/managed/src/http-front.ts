import { createServer, request as upstream, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sendJson } from '@flotilla/core';
import type { AppProcess } from './apps/app-process.js';

/** Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection and are not forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export interface FrontOptions {
  health: () => { status: string } & Record<string, unknown>;
  route: (path: string) => { app: AppProcess; prefix: string } | undefined;
  /** Each proxied request whose answer started: the application, the HTTP status, the seconds it took. */
  observe?: (app: string, status: number, seconds: number) => void;
}

function forwardedHeaders(request: IncomingMessage, prefix: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  const client = request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  const prior = request.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
  headers['x-forwarded-host'] = request.headers['x-forwarded-host'] ?? request.headers.host ?? '';
  headers['x-forwarded-proto'] = request.headers['x-forwarded-proto'] ?? 'http';
  if (prefix) headers['x-forwarded-prefix'] = prefix;
  return headers;
}

function proxy(request: IncomingMessage, response: ServerResponse, app: AppProcess, prefix: string, observe: FrontOptions['observe']): void {
  app.inFlight += 1;
  const started = process.hrtime.bigint();
  let finished = false;
  const done = () => {
    if (!finished) {
      finished = true;
      app.inFlight -= 1;
      if (response.headersSent) observe?.(app.spec.name, response.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
  response.once('close', done);
  // The application sees paths below its context: /hello/x → /x (the prefix is in X-Forwarded-Prefix).
  const path = (request.url ?? '/').slice(prefix.length) || '/';
  const outgoing = upstream(
    {
      host: '127.0.0.1',
      port: app.port,
      method: request.method,
      path: path.startsWith('/') ? path : `/${path}`,
      headers: forwardedHeaders(request, prefix),
      agent: app.agent,
    },
    (answer) => {
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
      response.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      answer.pipe(response);
    },
  );
  outgoing.on('error', () => {
    if (response.headersSent) response.destroy();
    else sendJson(response, 502, { error: `application ${app.spec.name} did not answer` });
  });
  request.pipe(outgoing);
}

/**
 * The applications' HTTP port: each request goes to the application whose context is the longest
 * prefix of its path. Management endpoints are never served here (SPEC section 10): only
 * `/-/health`, and the applications themselves.
 */
export function createHttpFront(options: FrontOptions): Server {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://front').pathname;
    if (path === '/-/health') {
      const body = options.health();
      sendJson(response, body.status === 'RUNNING' ? 200 : 503, body);
      return;
    }
    const target = options.route(request.url ?? '/');
    if (!target) {
      sendJson(response, 404, { error: `no application serves ${path}` });
      return;
    }
    proxy(request, response, target.app, target.prefix, options.observe);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 0; // streaming uploads and long polls are the applications' business
  server.keepAliveTimeout = 5_000;
  return server;
}
