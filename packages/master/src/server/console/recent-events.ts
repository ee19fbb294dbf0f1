/** One line of the console's event list. */
export interface ConsoleEvent {
  time: string;
  server: string;
  /** heartbeat: what the heartbeat layer decided; status: the status table changed. */
  kind: 'heartbeat' | 'status';
  text: string;
}

/** Enough to follow an incident on one screen; older ones are in the MASTER's log. */
export const RECENT_EVENTS = 50;

/** The last events, newest first, kept in memory only. */
export class RecentEvents {
  private readonly events: ConsoleEvent[] = [];

  add(event: ConsoleEvent): void {
    this.events.unshift(event);
    if (this.events.length > RECENT_EVENTS) this.events.length = RECENT_EVENTS;
  }

  list(): ConsoleEvent[] {
    return [...this.events];
  }
}
