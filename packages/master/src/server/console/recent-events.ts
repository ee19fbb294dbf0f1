import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SERVER_STATUSES, parseMessage, writeFileAtomic, type LogCode, type Logger } from '@flotilla/core';

const StatusEventSchema = z.strictObject({
  time: z.iso.datetime(),
  server: z.string().max(200),
  /** What the heartbeat layer decided (with the event and incarnation), or a change in the status table. */
  source: z.enum(['heartbeat', 'status']),
  event: z.enum(['joined', 'suspected', 'refuted', 'failed', 'left', 'rejoined']).optional(),
  incarnation: z.number().int().min(0).optional(),
  from: z.enum(SERVER_STATUSES),
  to: z.enum(SERVER_STATUSES),
});

/** A line of the MASTER's own log that the console shows too (console-log.ts says which). */
const MasterEventSchema = z.strictObject({
  time: z.iso.datetime(),
  server: z.string().max(200).optional(),
  source: z.literal('master'),
  code: z.string().regex(/^[A-Z]{2,3}-\d{4}$/),
  level: z.enum(['info', 'warn', 'error']),
  message: z.string().max(2_000),
});

const ConsoleEventSchema = z.union([StatusEventSchema, MasterEventSchema]);
export type ConsoleEvent = z.output<typeof ConsoleEventSchema>;
export type StatusEvent = z.output<typeof StatusEventSchema>;

/** The file that keeps the list across MASTER restarts (servers/<master>/console-events.json). */
const EventsFileSchema = z.strictObject({ version: z.literal(1), events: z.array(ConsoleEventSchema).max(1_000) });

/** Enough to follow an incident on one screen; older ones are in the MASTER's log. */
export const RECENT_EVENTS = 50;
/** A status change and the heartbeat decision behind it are raised within this of each other. */
const SAME_CHANGE_MS = 1_000;

function sameChange(a: ConsoleEvent, b: ConsoleEvent): boolean {
  return a.source !== 'master' && b.source !== 'master' && a.server === b.server && a.from === b.from && a.to === b.to && Math.abs(Date.parse(a.time) - Date.parse(b.time)) <= SAME_CHANGE_MS;
}

/**
 * The last events, newest first. When the heartbeats move a server's status, the status table
 * changes with them: that is one line, the heartbeat's, which says why. With a file, the list is
 * written there after every change and read back at the MASTER's start, so a restarted MASTER
 * still shows what happened before it.
 */
export class RecentEvents {
  private events: ConsoleEvent[] = [];
  private saving: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(private readonly persisted?: { file: string; log: Logger; unreadable: LogCode }) {}

  /** Reads the list the last MASTER left; one that cannot be read is said in the log, and the list starts empty. */
  async load(): Promise<void> {
    if (!this.persisted) return;
    const { file, log, unreadable } = this.persisted;
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    }).catch((error: Error) => {
      log.warn(unreadable, `the web console's events of the last MASTER run cannot be read from ${file}: ${error.message}; the list starts empty`);
      return undefined;
    });
    if (text === undefined) return;
    try {
      const { events } = parseMessage(EventsFileSchema, text, file);
      // Before anything this run added, and never more than the list holds.
      this.events = [...this.events, ...events].slice(0, RECENT_EVENTS);
    } catch (error) {
      log.warn(unreadable, `the web console's events of the last MASTER run in ${file} are not valid (${(error as Error).message.split('\n')[0]}); the list starts empty`);
    }
  }

  add(event: ConsoleEvent): void {
    const newest = this.events[0];
    if (newest && sameChange(newest, event) && newest.source !== event.source) {
      if (event.source === 'heartbeat') {
        this.events[0] = event;
        this.save();
      }
      return;
    }
    this.events.unshift(event);
    if (this.events.length > RECENT_EVENTS) this.events.length = RECENT_EVENTS;
    this.save();
  }

  list(): ConsoleEvent[] {
    return [...this.events];
  }

  /** Resolves once what was added so far is on disk. */
  flushed(): Promise<void> {
    return this.saving;
  }

  /** One write at a time; events added while one runs go with the next. */
  private save(): void {
    if (!this.persisted || this.dirty) return;
    const { file, log, unreadable } = this.persisted;
    this.dirty = true;
    this.saving = this.saving.then(async () => {
      this.dirty = false;
      await writeFileAtomic(file, `${JSON.stringify({ version: 1, events: this.events })}\n`).catch((error: Error) =>
        log.warn(unreadable, `the web console's events cannot be kept in ${file}: ${error.message}; a restarted MASTER will not show them`),
      );
    });
  }
}
