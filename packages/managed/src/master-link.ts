import type { IncomingMessage } from 'node:http';
import { API_PREFIX, ProtocolError, STREAM_SILENCE_MS, StreamEventSchema, parseMessage, refusalOf, type PeerClient, type StreamEvent } from '@flotilla/core';
import { retryDelay } from './backoff.js';

/** An event is a few dozen bytes; a line this long is not one, and is not buffered further. */
const MAX_EVENT_LINE = 64 * 1024;

/** The first event of every stream: the MASTER's current generation (docs/protocol.md, events). */
export type StreamHello = Extract<StreamEvent, { type: 'generation' }>;

/**
 * Follows the MASTER's event stream until it ends, for any reason. `onOpen` runs with the stream's
 * first event, the MASTER's current generation, and the stream waits for it: a server that must
 * sync first does so there, and only then counts as attached (the hello saves the separate
 * manifest request a re-attach would otherwise make). `onEvent` runs for each later event; when
 * the work it returns fails (a sync that could not finish), the stream is ended, so that the server
 * retries as after a lost stream and the next stream's first event brings that generation again.
 * Resolves when the stream is over; rejects with the MASTER's refusal (a stale key is
 * PeerRefusedKeyError), with what `onOpen` threw, or with a ProtocolError when the MASTER sent a
 * line that is not an event of our protocol (nothing after it is used).
 */
export async function followEvents(
  client: PeerClient,
  server: string,
  onOpen: (hello: StreamHello) => Promise<void>,
  onEvent: (event: StreamEvent) => unknown,
): Promise<void> {
  const response: IncomingMessage = await client.open('GET', `${API_PREFIX}/events?server=${encodeURIComponent(server)}`);
  if (response.statusCode !== 200) throw await refusalOf(response, client.where);
  const where = `the event stream of the MASTER at ${client.where}`;
  let silence: NodeJS.Timeout | undefined;
  const heard = () => {
    clearTimeout(silence);
    silence = setTimeout(() => response.destroy(), STREAM_SILENCE_MS);
  };
  let opened = false;
  let openFailed = false;
  let buffered = '';
  heard();
  response.setEncoding('utf8');
  try {
    for await (const chunk of response as AsyncIterable<string>) {
      heard();
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        const event = parseMessage(StreamEventSchema, line, `an event from ${where}`);
        if (opened) {
          const work = onEvent(event);
          if (work instanceof Promise) work.catch(() => response.destroy());
          continue;
        }
        if (event.type !== 'generation') throw new ProtocolError(`${where} began with a ${event.type} event, not with the MASTER's generation`);
        // A sync here may take minutes: the MASTER's pings wait in the socket meanwhile.
        clearTimeout(silence);
        await onOpen(event).catch((error: unknown) => {
          openFailed = true;
          throw error;
        });
        opened = true;
        heard();
      }
      if (buffered.length > MAX_EVENT_LINE) throw new ProtocolError(`${where} sent a line of more than ${MAX_EVENT_LINE} bytes, which is no event`);
    }
  } catch (error) {
    // A reset or a silence ends the stream like its end does; what we refused, or could not do, is said.
    if (openFailed || error instanceof ProtocolError) throw error;
  } finally {
    clearTimeout(silence);
    response.destroy();
  }
}

/** What a server does at each turn of its link to the MASTER (MasterLink). */
export interface LinkTurns {
  /**
   * Follows one stream until it ends (followEvents with the server's handlers); calls `opened`
   * once the stream's hello is handled, which makes the next retry after a loss the quickest.
   */
  follow(opened: () => void): Promise<void>;
  /** The stream could not be followed, or ended with this error, while the server runs. */
  failed(error: unknown): void;
  /** The stream is over and the server runs on: it is on its own until the next one opens. */
  lost(): Promise<void> | void;
}

/**
 * Keeps a server attached to its MASTER for as long as it runs: follow the event stream while it
 * lasts, then retry with capped, jittered backoff (backoff.ts), at once when the MASTER announces
 * itself. The managed server and the scale tests' simulated servers (test-support's fleet) both run it.
 */
export class MasterLink {
  private stopped = false;
  private wake?: () => void;

  constructor(private readonly turns: LinkTurns) {}

  /** Resolves once the link is stopped. */
  async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      try {
        await this.turns.follow(() => {
          attempt = 0;
        });
      } catch (error) {
        if (!this.stopped) this.turns.failed(error);
      }
      if (this.stopped) return;
      await this.turns.lost();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryDelay(attempt++));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** The MASTER announced itself (master-up): a link waiting to retry retries now. */
  retryNow(): void {
    this.wake?.();
  }

  /** No more retries; a wait under way ends at once. The stream itself is the caller's to close. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
}
