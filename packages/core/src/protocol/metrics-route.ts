import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../log.js';
import type { LogCode } from '../log-codes.js';
import { ExitCode } from '../errors.js';
import { deriveToken, sameToken } from './derived-token.js';
import { HANDLED, sendJson, type Route } from './http-server.js';

/** Where Prometheus scrapes, by its convention (not under the versioned API). */
export const METRICS_PATH = '/metrics';

/**
 * The bearer token Prometheus presents (`master metrics-token`): the same for the MASTER and every
 * server of the domain, since each holds the key; it grants reading metrics and nothing else.
 */
export function metricsToken(key: Uint8Array): string {
  return deriveToken(key, 'flotilla metrics v1');
}

/** What prom-client's Registry offers: the exposition text and its content type. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

export interface MetricsRouteOptions {
  /** The domain key now: the token follows a rotation. */
  key: () => Uint8Array;
  registry: MetricsSource;
  logger: Logger;
  /** Log code for refused scrapes: MA-… on the MASTER, MS-… on a managed server. */
  refusedCode: LogCode;
}

function bearer(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

/** `GET /metrics` in the Prometheus text format, for a scraper holding the metrics token. */
export function metricsRoute(options: MetricsRouteOptions): Route {
  return {
    method: 'GET',
    path: METRICS_PATH,
    public: true,
    handle: async ({ request, response }) => {
      const presented = bearer(request.headers);
      if (!presented || !sameToken(presented, metricsToken(options.key()))) {
        const why = presented ? 'wrong bearer token' : 'no bearer token';
        options.logger.warn(options.refusedCode, `refused a metrics scrape (${why}) from ${request.socket.remoteAddress}:${request.socket.remotePort}`);
        response.setHeader('www-authenticate', 'Bearer realm="flotilla metrics"');
        sendJson(response, 401, { error: `unauthorized (${why}): scrape with the token from master metrics-token`, exitCode: ExitCode.usage });
        return HANDLED;
      }
      const text = await options.registry.metrics();
      response.writeHead(200, { 'content-type': options.registry.contentType, 'cache-control': 'no-store' });
      response.end(text);
      return HANDLED;
    },
  };
}
