import type { ServerStatus } from '@flotilla/core';
import type { MembershipEventKind } from '@flotilla/heartbeat';

/** One line of the console's event list. */
export interface ConsoleEvent {
  time: string;
  server: string;
  /** What the heartbeat layer decided (with the event and incarnation), or a change in the status table. */
  source: 'heartbeat' | 'status';
  event?: MembershipEventKind;
  incarnation?: number;
  from: ServerStatus;
  to: ServerStatus;
}

/** Enough to follow an incident on one screen; older ones are in the MASTER's log. */
export const RECENT_EVENTS = 50;
/** A status change and the heartbeat decision behind it are raised within this of each other. */
const SAME_CHANGE_MS = 1_000;

function sameChange(a: ConsoleEvent, b: ConsoleEvent): boolean {
  return a.server === b.server && a.from === b.from && a.to === b.to && Math.abs(Date.parse(a.time) - Date.parse(b.time)) <= SAME_CHANGE_MS;
}

/**
 * The last events, newest first, kept in memory only. When the heartbeats move a server's status,
 * the status table changes with them: that is one line, the heartbeat's, which says why.
 */
export class RecentEvents {
  private readonly events: ConsoleEvent[] = [];

  add(event: ConsoleEvent): void {
    const newest = this.events[0];
    if (newest && sameChange(newest, event) && newest.source !== event.source) {
      if (event.source === 'heartbeat') this.events[0] = event;
      return;
    }
    this.events.unshift(event);
    if (this.events.length > RECENT_EVENTS) this.events.length = RECENT_EVENTS;
  }

  list(): ConsoleEvent[] {
    return [...this.events];
  }
}
