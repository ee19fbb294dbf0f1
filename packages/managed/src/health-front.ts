import { createServer, type Server } from 'node:http';
import { sendJson } from '@flotilla/core';

/**
 * The applications' HTTP port. Management endpoints are never served here (SPEC section 10):
 * only `/-/health`, and the applications themselves.
 */
export function createHttpFront(health: () => { status: string } & Record<string, unknown>): Server {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://front').pathname;
    if (path === '/-/health') {
      const body = health();
      sendJson(response, body.status === 'RUNNING' ? 200 : 503, body);
      return;
    }
    sendJson(response, 404, { error: `no application serves ${path}` });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  return server;
}
