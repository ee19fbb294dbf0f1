import type { IncomingMessage, ServerResponse } from 'node:http';
import { HANDLED, type Logger, type Route } from '@flotilla/core';
import type { Membership, MembershipEvent } from '@flotilla/heartbeat';
import type { StatusChange } from '../registry.js';
import { ConsoleAssets } from './assets.js';
import { ConsoleFeed } from './feed.js';
import { CONSOLE_HEADERS, sendContinue, sendRefusal } from './pages.js';
import { CONSOLE_LOGIN_PATH, CONSOLE_PATH } from './paths.js';
import { RecentEvents } from './recent-events.js';
import { cookieName, readCookie, sessionCookie } from './session-cookie.js';
import { buildState, type ConsoleSource } from './state.js';
import { checkToken, issueToken, type TokenCheck } from './tokens.js';

export interface WebConsoleOptions {
  domain: string;
  /** The domain key now: links and sessions derived from a rotated-out key stop working. */
  key: () => Uint8Array;
  log: Logger;
  source: ConsoleSource;
}

/** The style sheet holds nothing about the domain: the refusal page uses it before any login. */
const PUBLIC_ASSETS = new Set(['style.css']);

/**
 * The web console on the MASTER's port (docs/console.md). Browsers cannot sign requests, so its
 * routes are public to the management server and authenticate here: a login link from
 * `master console-url` sets a session cookie, and every other console request needs that cookie.
 */
export class WebConsole {
  private readonly events = new RecentEvents();
  private readonly assets = new ConsoleAssets();
  private readonly feed: ConsoleFeed;
  private readonly cookie: string;

  constructor(private readonly options: WebConsoleOptions) {
    this.cookie = cookieName(options.domain);
    this.feed = new ConsoleFeed(
      () => buildState(options.source, this.events.list()),
      (error) => options.log.error('SYS-0001', `the web console could not build its page state: ${error.stack}`),
    );
  }

  /** A status in the table moved: an event line, and a push. */
  statusChanged(change: StatusChange): void {
    this.events.add({ time: change.time, server: change.server, source: 'status', from: change.from, to: change.to });
    this.feed.changed();
  }

  /** Anything else the page shows may have changed. */
  changed(): void {
    this.feed.changed();
  }

  /** Records what the MASTER's heartbeat member decides about the others. */
  watch(membership: Membership): void {
    membership.on('event', (event: MembershipEvent) => {
      this.events.add({
        time: event.time,
        server: event.server,
        source: 'heartbeat',
        event: event.event,
        incarnation: event.incarnation,
        from: event.from,
        to: event.to,
      });
      this.feed.changed();
    });
  }

  stop(): void {
    this.feed.stop();
  }

  routes(): Route[] {
    return [
      {
        method: 'GET',
        path: CONSOLE_PATH,
        public: true,
        handle: ({ response }) => redirect(response, `${CONSOLE_PATH}/`),
      },
      {
        method: 'GET',
        path: CONSOLE_LOGIN_PATH,
        public: true,
        handle: ({ query, request, response }) => this.login(query.get('token') ?? undefined, request, response),
      },
      {
        method: 'GET',
        path: `${CONSOLE_PATH}/`,
        public: true,
        handle: ({ request, response }) => this.withSession(request, response, () => this.sendAsset(response, 'index.html')),
      },
      {
        method: 'GET',
        path: `${CONSOLE_PATH}/events`,
        public: true,
        handle: ({ request, response }) => this.withSession(request, response, (session) => this.feed.add(response, session.expires)),
      },
      {
        method: 'GET',
        path: `${CONSOLE_PATH}/:asset`,
        public: true,
        handle: async ({ params, request, response }) => {
          const name = params.asset!;
          if (!this.assets.has(name)) {
            response.writeHead(404, { ...CONSOLE_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
            response.end(`no such console page: ${name}\n`);
            return HANDLED;
          }
          if (PUBLIC_ASSETS.has(name)) return this.sendAsset(response, name);
          return this.withSession(request, response, () => this.sendAsset(response, name));
        },
      },
    ];
  }

  private login(token: string | undefined, request: IncomingMessage, response: ServerResponse): typeof HANDLED {
    const check = checkToken(this.options.key(), 'console', token);
    if (!check.ok) return this.refuse(request, response, `login link ${check.reason}`, refusalText(check.reason, 'login link'));
    const session = issueToken(this.options.key(), 'console-session', check.expires);
    this.options.log.info('MA-0042', `web console session started from ${remote(request)}, valid until ${check.expires.toISOString()}`);
    response.setHeader('set-cookie', sessionCookie(this.cookie, session, check.expires));
    sendContinue(response, `${CONSOLE_PATH}/`);
    return HANDLED;
  }

  private async withSession(
    request: IncomingMessage,
    response: ServerResponse,
    serve: (session: { expires: Date }) => Promise<unknown>,
  ): Promise<typeof HANDLED> {
    const check = checkToken(this.options.key(), 'console-session', readCookie(request, this.cookie));
    if (!check.ok) return this.refuse(request, response, `session ${check.reason}`, refusalText(check.reason, 'session'));
    await serve(check);
    return HANDLED;
  }

  private refuse(request: IncomingMessage, response: ServerResponse, logged: string, shown: string): typeof HANDLED {
    this.options.log.warn('MA-0041', `refused a web console request (${logged}) from ${remote(request)}: ${new URL(request.url ?? '/', 'http://console').pathname}`);
    sendRefusal(response, this.options.domain, shown);
    return HANDLED;
  }

  private async sendAsset(response: ServerResponse, name: string): Promise<typeof HANDLED> {
    const asset = await this.assets.get(name);
    response.writeHead(200, { ...CONSOLE_HEADERS, 'content-type': asset.contentType, 'content-length': asset.body.length });
    response.end(asset.body);
    return HANDLED;
  }
}

function refusalText(reason: Exclude<TokenCheck, { ok: true }>['reason'], what: 'login link' | 'session'): string {
  if (reason === 'missing') return what === 'session' ? 'You are not logged in.' : 'This login link has no token.';
  if (reason === 'expired') return `Your ${what} has expired.`;
  return `This ${what} is not valid for this domain.`;
}

function remote(request: IncomingMessage): string {
  return `${request.socket.remoteAddress}:${request.socket.remotePort}`;
}

function redirect(response: ServerResponse, location: string): typeof HANDLED {
  response.writeHead(303, { ...CONSOLE_HEADERS, location, 'content-length': 0 });
  response.end();
  return HANDLED;
}
