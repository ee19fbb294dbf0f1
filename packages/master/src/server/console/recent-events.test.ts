import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogCode, Logger } from '@flotilla/core';
import { tempHome } from '@flotilla/test-support';
import { RECENT_EVENTS, RecentEvents, type ConsoleEvent, type StatusEvent } from './recent-events.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, seconds)).toISOString();
const status = (seconds: number, from: StatusEvent['from'], to: StatusEvent['to'], server = 'server1'): ConsoleEvent => ({ time: at(seconds), server, source: 'status', from, to });
const heartbeat = (seconds: number, from: StatusEvent['from'], to: StatusEvent['to'], event: StatusEvent['event']): ConsoleEvent => ({ time: at(seconds), server: 'server1', source: 'heartbeat', event, incarnation: 0, from, to });

describe('recent events', () => {
  it('keep one line for a status change and the heartbeat decision behind it, in either order', () => {
    const events = new RecentEvents();
    events.add(status(1, 'RUNNING', 'FAILURE_SUSPECTED'));
    events.add(heartbeat(1, 'RUNNING', 'FAILURE_SUSPECTED', 'suspected'));
    events.add(heartbeat(2, 'FAILURE_SUSPECTED', 'FAILED', 'failed'));
    events.add(status(2, 'FAILURE_SUSPECTED', 'FAILED'));
    events.add(status(9, 'FAILED', 'RUNNING'));
    expect(events.list().map((event) => (event.source === 'master' ? event.code : `${event.source}:${event.event ?? ''}:${event.to}`))).toEqual([
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

  it('are read back by the next MASTER run, and a damaged file is said and starts the list empty', async () => {
    const home = await tempHome();
    const file = join(home, 'console-events.json');
    const warned: string[] = [];
    const log: Logger = { info: () => {}, warn: (code: LogCode, message?: string) => void warned.push(`${code} ${message}`), error: () => {} };
    const first = new RecentEvents({ file, log, unreadable: 'MA-0072' });
    first.add(status(1, 'RUNNING', 'SHUTDOWN'));
    first.add({ time: at(2), source: 'master', code: 'MA-0051', level: 'info', message: 'restarting server1' });
    await first.flushed();
    const second = new RecentEvents({ file, log, unreadable: 'MA-0072' });
    await second.load();
    expect(second.list()).toEqual(first.list());
    expect(warned).toEqual([]);

    await writeFile(file, '{"version":1,"events":[{"time":"yesterday"}]}');
    const third = new RecentEvents({ file, log, unreadable: 'MA-0072' });
    await third.load();
    expect(third.list()).toEqual([]);
    expect(warned[0]).toMatch(new RegExp(`^MA-0072 .*${file}.* are not valid`));
    expect(await readFile(file, 'utf8')).toContain('yesterday'); // left for the operator to look at
  });
});
