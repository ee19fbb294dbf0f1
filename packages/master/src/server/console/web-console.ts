import type { IncomingMessage, ServerResponse } from 'node:http';
import { HANDLED, assertName, sendJson, type LogCode, type Logger, type Route } from '@flotilla/core';
import type { Membership, MembershipEvent } from '@flotilla/heartbeat';
import type { StatusChange } from '../registry.js';
import { ConsoleAssets } from './assets.js';
import { ConsoleChanges, FieldErrors, type ChangeDone, type ChangeTarget } from './changes.js';
import type { LoggedLine } from './console-log.js';
import { ConsoleFeed } from './feed.js';
import type { LogLines } from './log-lines.js';
import { tailLog } from './log-tail.js';
import { CONSOLE_HEADERS, sendContinue, sendRefusal } from './pages.js';
import { CONSOLE_API_PATH, CONSOLE_LOGIN_PATH, CONSOLE_PATH } from './paths.js';
import { RecentEvents } from './recent-events.js';
import { changeRefusal, checkLogin, checkSession, newSession, type ConsoleSession } from './session.js';
import { cookieName, sessionCookie } from './session-cookie.js';
import { buildState, type ConsoleSource } from './state.js';
import type { TokenCheck } from './tokens.js';

export interface WebConsoleOptions {
  domain: string;
  /** The domain key now: links and sessions derived from a rotated-out key stop working. */
  key: () => Uint8Array;
  log: Logger;
  source: ConsoleSource;
  /** What admin sessions change, through the commands' own code (changes.ts). */
  changes: ChangeTarget;
  /** Where a tailed log's lines come from (log-lines.ts). */
  logLines: LogLines;
  /** Keeps the recent events across MASTER restarts. */
  eventsFile: string;
}

/** Nothing about the domain: the refusal page uses them before any login. */
const PUBLIC_ASSETS = new Set(['style.css', 'favicon.svg']);
/** A change is a small JSON document. */
const MAX_CHANGE_BODY = 64 * 1024;
/**
 * An uploaded application, read into memory whole before it is staged: bounded so that an upload
 * (read before its session is checked, as for every public route) cannot exhaust the MASTER.
 */
const MAX_UPLOAD_BODY = 64 * 1024 * 1024;

/**
 * The web console on the MASTER's port (docs/console.md). Browsers cannot sign requests, so its
 * routes are public to the management server and authenticate here: a login link from
 * `master console-url` sets a session cookie, and every other console request needs that cookie.
 * Sessions from `master console-url --admin` may also change things (changes.ts), each change
 * checked against cross-site requests (session.ts) and logged with the session's id.
 */
export class WebConsole {
  private readonly events: RecentEvents;
  private readonly assets = new ConsoleAssets();
  private readonly feed: ConsoleFeed;
  private readonly cookie: string;
  private readonly changes: ConsoleChanges;

  constructor(private readonly options: WebConsoleOptions) {
    this.cookie = cookieName(options.domain);
    this.events = new RecentEvents({ file: options.eventsFile, log: options.log, unreadable: 'MA-0072' });
    this.changes = new ConsoleChanges(options.changes);
    this.feed = new ConsoleFeed(
      () => buildState(options.source, this.events.list()),
      (error) => options.log.error('SYS-0001', `the web console could not build its page state: ${error.stack}`),
    );
  }

  /** Reads back the events the last MASTER run left. */
  load(): Promise<void> {
    return this.events.load();
  }

  /** A status in the table moved: an event line, and a push. */
  statusChanged(change: StatusChange): void {
    this.events.add({ time: change.time, server: change.server, source: 'status', from: change.from, to: change.to });
    this.feed.changed();
  }

  /** A line of the MASTER's log that the event list shows (console-log.ts). */
  logged(line: LoggedLine): void {
    this.events.add({ time: new Date().toISOString(), source: 'master', code: line.code, level: line.level, message: line.message.slice(0, 2_000) });
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

  /** Ends every stream; resolves once the events are on disk. */
  stop(): Promise<void> {
    this.feed.stop();
    return this.events.flushed();
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
        // Browsers ask for it at the root on their own: answered, not refused (no console errors).
        method: 'GET',
        path: '/favicon.ico',
        public: true,
        handle: ({ response }) => this.sendAsset(response, 'favicon.svg'),
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
        // What the page may do; the change token is readable by the console's own page only.
        method: 'GET',
        path: `${CONSOLE_API_PATH}/session`,
        public: true,
        handle: ({ request, response }) =>
          this.withSession(request, response, async (session) =>
            sendJson(response, 200, { id: session.id, admin: session.admin, expires: session.expires.toISOString(), ...(session.admin && { changeToken: session.changeToken }) }),
          ),
      },
      {
        method: 'GET',
        path: `${CONSOLE_API_PATH}/log`,
        public: true,
        handle: ({ query, request, response }) =>
          this.withSession(request, response, async (session) => {
            // Refused as the commands refuse a bad name, before any stream starts.
            const server = query.get('server') ?? '';
            const app = query.get('app') ?? undefined;
            assertName('server', server);
            if (app !== undefined) assertName('application', app);
            await tailLog(response, this.options.logLines, { server, ...(app !== undefined && { app }) }, session.expires);
          }),
      },
      this.changeRoute('backup-policy', MAX_CHANGE_BODY, ({ body }) => this.changes.backupPolicy(body)),
      this.changeRoute('setting', MAX_CHANGE_BODY, ({ body }) => this.changes.setSetting(body)),
      this.changeRoute('deploy', MAX_UPLOAD_BODY, ({ body, query }) => this.changes.deploy(query, body)),
      this.changeRoute('undeploy', MAX_CHANGE_BODY, ({ body }) => this.changes.undeploy(body)),
      this.changeRoute('server-operation', MAX_CHANGE_BODY, ({ body }) => this.changes.serverOperation(body)),
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

  /**
   * A change: an admin session's, from the console's own page (changeRefusal), or 403. Done, it is
   * logged with the session's id, which puts it among the events. A refusal of the command's own
   * checks is answered as the command says it, field by field where the form has fields.
   */
  private changeRoute(name: string, maxBody: number, make: (request: { body: Buffer; query: URLSearchParams }) => Promise<ChangeDone>): Route {
    return {
      method: 'POST',
      path: `${CONSOLE_API_PATH}/${name}`,
      public: true,
      maxBody,
      // Before the body is read: an upload of a stranger or a read-only session is never taken in.
      admit: (request, response) => {
        const check = checkSession(this.options.key(), request, this.cookie);
        if (!check.ok) {
          this.refuse(request, response, `session ${check.reason}`, refusalText(check.reason, 'session'));
          return false;
        }
        const refusal = changeRefusal(request, check.session);
        if (!refusal) return true;
        this.logAs('MA-0071', 'warn', `refused a web console change (${refusal}) of session ${check.session.id} from ${remote(request)}: ${name}`);
        sendJson(response, 403, { error: `refused: ${refusal}. Changes need a session from master console-url --admin ${this.options.domain}, made from the console's own page` });
        return false;
      },
      handle: ({ body, query, request, response }) =>
        this.withSession(request, response, async (session) => {
          try {
            const done = await make({ body, query });
            this.logAs('MA-0070', 'info', `web console session ${session.id}: ${done.what}`);
            sendJson(response, 200, done);
          } catch (error) {
            if (!(error instanceof FieldErrors)) throw error;
            sendJson(response, 400, { error: error.message, fields: error.fields, exitCode: error.exitCode });
          }
        }),
    };
  }

  private logAs(code: LogCode, level: 'info' | 'warn', message: string): void {
    this.options.log[level](code, message);
  }

  private login(token: string | undefined, request: IncomingMessage, response: ServerResponse): typeof HANDLED {
    const check = checkLogin(this.options.key(), token);
    if (!check.ok) return this.refuse(request, response, `login link ${check.reason}`, refusalText(check.reason, 'login link'));
    const session = newSession(this.options.key(), check.admin, check.expires);
    this.options.log.info('MA-0042', `web console ${check.admin ? 'admin' : 'read-only'} session started from ${remote(request)}, valid until ${check.expires.toISOString()}`);
    response.setHeader('set-cookie', sessionCookie(this.cookie, session, check.expires));
    sendContinue(response, `${CONSOLE_PATH}/`);
    return HANDLED;
  }

  private async withSession(request: IncomingMessage, response: ServerResponse, serve: (session: ConsoleSession) => Promise<unknown>): Promise<typeof HANDLED> {
    const check = checkSession(this.options.key(), request, this.cookie);
    if (!check.ok) return this.refuse(request, response, `session ${check.reason}`, refusalText(check.reason, 'session'));
    await serve(check.session);
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
