import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConsoleFeed } from './feed.js';
import type { ConsoleState } from './state.js';

/** What the feed uses of a response: the state documents written to it are collected. */
function fakeResponse() {
  const response = Object.assign(new EventEmitter(), {
    states: [] as ConsoleState[],
    ended: false,
    writeHead: () => undefined,
    write(text: string) {
      const match = /^event: state\ndata: (.*)\n\n$/.exec(text);
      if (match) response.states.push(JSON.parse(match[1]!));
      return true;
    },
    end() {
      response.ended = true;
      response.emit('close');
    },
  });
  return response;
}

function stateWith(generation: number): ConsoleState {
  return { now: new Date().toISOString(), domain: 'd1', generation, servers: [], membership: null, backup: {} as ConsoleState['backup'], events: [], outline: { nodes: [], clusters: [], applications: [] } };
}

describe('the console feed', () => {
  let generation = 1;
  const build = vi.fn(async () => stateWith(generation));

  beforeEach(() => {
    vi.useFakeTimers();
    generation = 1;
    build.mockClear();
  });
  afterEach(() => vi.useRealTimers());

  it('pushes a changed state at most once a second, and an unchanged one never', async () => {
    const feed = new ConsoleFeed(build, (error) => {
      throw error;
    });
    const browser = fakeResponse();
    await feed.add(browser as unknown as ServerResponse, new Date(Date.now() + 3_600_000));
    expect(browser.states.map((state) => state.generation)).toEqual([1]);

    // A burst of changes: one push, at the end of the second.
    generation = 5;
    for (let i = 0; i < 4; i++) feed.changed();
    await vi.advanceTimersByTimeAsync(999);
    expect(browser.states).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(browser.states.map((state) => state.generation)).toEqual([1, 5]);

    // Nothing changes: the ticks build, but send nothing.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(browser.states).toHaveLength(2);
    feed.stop();
    expect(browser.ended).toBe(true);
  });

  it('closes the stream of a session that has ended', async () => {
    const feed = new ConsoleFeed(build, (error) => {
      throw error;
    });
    const browser = fakeResponse();
    await feed.add(browser as unknown as ServerResponse, new Date(Date.now() + 1_500));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(browser.ended).toBe(true);
    feed.stop();
  });
});
