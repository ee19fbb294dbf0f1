import type { ServerResponse } from 'node:http';
import { CONSOLE_HEADERS } from './pages.js';
import type { ConsoleState } from './state.js';

/** The page is never more than this behind, and never gets more than one update in this time. */
const MIN_INTERVAL_MS = 1_000;

interface Client {
  /** Its session's end: the stream is closed then, and the browser's reconnect is refused. */
  expires: number;
}

/**
 * Server-sent events for every open console: one state document built for all of them, pushed
 * when it changed, at most once a second. Changes the MASTER announces are pushed at once (within
 * that limit); a tick every second, while a console is open, catches the rest (a server's report,
 * a new generation, a backup written).
 */
export class ConsoleFeed {
  private readonly clients = new Map<ServerResponse, Client>();
  private pending?: NodeJS.Timeout;
  private ticker?: NodeJS.Timeout;
  private lastPush = 0;
  private lastSent = '';
  /** The failure last reported: one that repeats every second is reported once. */
  private failing?: string;

  constructor(
    private readonly build: () => Promise<ConsoleState>,
    /** A state that cannot be built (a backup record unreadable…): the page keeps the last one. */
    private readonly onError: (error: Error) => void,
  ) {}

  async add(response: ServerResponse, expires: Date): Promise<void> {
    response.writeHead(200, { ...CONSOLE_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    response.socket?.setNoDelay(true);
    // A browser whose MASTER went away reconnects every two seconds until it is back.
    response.write('retry: 2000\n\n');
    this.clients.set(response, { expires: expires.getTime() });
    response.on('close', () => {
      this.clients.delete(response);
      if (this.clients.size === 0) this.idle();
    });
    this.ticker ??= setInterval(() => this.tick(), MIN_INTERVAL_MS);
    // The first state counts against the rate limit like any other push.
    this.lastPush = Date.now();
    const state = await this.state();
    if (state && this.clients.has(response)) response.write(message(state));
  }

  /** Something the page shows has changed: push it as soon as the rate limit allows. */
  changed(): void {
    if (this.pending || this.clients.size === 0) return;
    const wait = Math.max(0, this.lastPush + MIN_INTERVAL_MS - Date.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.push();
    }, wait);
  }

  stop(): void {
    for (const response of this.clients.keys()) response.end();
    this.clients.clear();
    this.idle();
  }

  private tick(): void {
    const now = Date.now();
    for (const [response, client] of this.clients) if (client.expires <= now) response.end();
    // Every second, even with nothing new: a page that hears nothing for a few seconds knows its
    // MASTER is gone (a machine gone says no FIN) and stops showing the table as current. It also
    // keeps proxies and NAT tables from dropping a quiet stream.
    const alive = `event: alive\ndata: ${new Date(now).toISOString()}\n\n`;
    for (const response of this.clients.keys()) response.write(alive);
    this.changed();
  }

  private async push(): Promise<void> {
    this.lastPush = Date.now();
    const state = await this.state();
    if (!state) return;
    // `now` moves every time: only a change in what the page shows is worth a push.
    const shown = JSON.stringify({ ...state, now: undefined });
    if (shown === this.lastSent) return;
    this.lastSent = shown;
    const text = message(state);
    for (const response of this.clients.keys()) response.write(text);
  }

  private async state(): Promise<ConsoleState | undefined> {
    try {
      const state = await this.build();
      this.failing = undefined;
      return state;
    } catch (error) {
      if ((error as Error).message !== this.failing) this.onError(error as Error);
      this.failing = (error as Error).message;
      return undefined;
    }
  }

  private idle(): void {
    clearInterval(this.ticker);
    clearTimeout(this.pending);
    this.ticker = undefined;
    this.pending = undefined;
    // The next console to open gets a full state and a fresh comparison.
    this.lastSent = '';
  }
}

function message(state: ConsoleState): string {
  return `event: state\ndata: ${JSON.stringify(state)}\n\n`;
}
