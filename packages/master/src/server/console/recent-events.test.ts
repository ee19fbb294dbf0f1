import { describe, expect, it } from 'vitest';
import { RECENT_EVENTS, RecentEvents, type ConsoleEvent } from './recent-events.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, seconds)).toISOString();
const status = (seconds: number, from: ConsoleEvent['from'], to: ConsoleEvent['to'], server = 'server1'): ConsoleEvent => ({ time: at(seconds), server, source: 'status', from, to });
const heartbeat = (seconds: number, from: ConsoleEvent['from'], to: ConsoleEvent['to'], event: ConsoleEvent['event']): ConsoleEvent => ({ time: at(seconds), server: 'server1', source: 'heartbeat', event, incarnation: 0, from, to });

describe('recent events', () => {
  it('keep one line for a status change and the heartbeat decision behind it, in either order', () => {
    const events = new RecentEvents();
    events.add(status(1, 'RUNNING', 'FAILURE_SUSPECTED'));
    events.add(heartbeat(1, 'RUNNING', 'FAILURE_SUSPECTED', 'suspected'));
    events.add(heartbeat(2, 'FAILURE_SUSPECTED', 'FAILED', 'failed'));
    events.add(status(2, 'FAILURE_SUSPECTED', 'FAILED'));
    events.add(status(9, 'FAILED', 'RUNNING'));
    expect(events.list().map((event) => `${event.source}:${event.event ?? ''}:${event.to}`)).toEqual([
      'status::RUNNING',
      'heartbeat:failed:FAILED',
      'heartbeat:suspected:FAILURE_SUSPECTED',
    ]);
  });

  it('keep the newest ones only', () => {
    const events = new RecentEvents();
    for (let i = 0; i < RECENT_EVENTS + 10; i++) events.add(status(i % 60, i % 2 ? 'RUNNING' : 'SHUTDOWN', i % 2 ? 'SHUTDOWN' : 'RUNNING', `server${i}`));
    expect(events.list()).toHaveLength(RECENT_EVENTS);
    expect(events.list()[0]!.server).toBe(`server${RECENT_EVENTS + 9}`);
  });
});
