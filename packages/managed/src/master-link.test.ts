import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PeerClient, ProtocolError, type StreamEvent } from '@flotilla/core';
import { onCleanup, waitFor } from '@flotilla/test-support';
import { testTls } from '@flotilla/test-support/management';
import { RETRY_BASE_MS } from './backoff.js';
import { MasterLink, followEvents, type LinkTurns } from './master-link.js';

const DIGEST = 'cd'.repeat(32);

/** A stand-in MASTER that answers the event stream with `lines` and keeps the connection open. */
async function fakeMaster(lines: string): Promise<{ server: Server; client: PeerClient; closed: () => boolean }> {
  let response: ServerResponse | undefined;
  let closed = false;
  const tls = await testTls();
  const server = createServer(tls.credentials, (_request, answer) => {
    response = answer;
    answer.on('close', () => (closed = true));
    answer.writeHead(200, { 'content-type': 'application/x-ndjson' });
    answer.write(lines);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new PeerClient({ address: '127.0.0.1', port: (server.address() as AddressInfo).port }, { key: Buffer.alloc(32, 1), sender: 'server1', trust: tls });
  onCleanup(async () => {
    client.close();
    response?.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { server, client, closed: () => closed };
}

describe('following the event stream', () => {
  const hello = { type: 'generation', generation: 4, digest: DIGEST } as const;
  const good = `${JSON.stringify(hello)}\n${JSON.stringify({ type: 'ping' })}\n`;
  // What follows a bad line, a good event, is not used.
  const cases: Array<[string, string, string]> = [
    ['a line that is not JSON', `not json\n${good}`, 'is not JSON'],
    ['an unknown event', `${JSON.stringify({ type: 'self-destruct' })}\n${good}`, 'type:'],
    ['an event with a key we do not know', `${JSON.stringify({ type: 'ping', extra: true })}\n${good}`, 'Unrecognized key: "extra"'],
    ['a line that never ends', 'x'.repeat(70 * 1024), 'a line of more than 65536 bytes'],
  ];
  for (const [name, bad, says] of cases) {
    it(`ends the stream on ${name}, with the reason, after the events before it`, async () => {
      const master = await fakeMaster(`${good}${bad}`);
      const opened: StreamEvent[] = [];
      const events: StreamEvent[] = [];
      const followed = followEvents(master.client, 'server1', async (first) => void opened.push(first), (event) => events.push(event));
      await expect(followed).rejects.toThrow(ProtocolError);
      await expect(followed).rejects.toThrow(`the event stream of the MASTER at ${master.client.where}`);
      await expect(followed).rejects.toThrow(says);
      expect(opened).toEqual([hello]);
      expect(events).toEqual([{ type: 'ping' }]);
      await waitFor('the MASTER to see the stream closed', master.closed, 5_000);
    });
  }

  it('refuses a stream that does not begin with the generation, and never counts as attached', async () => {
    const master = await fakeMaster(`${JSON.stringify({ type: 'ping' })}\n${good}`);
    let opened = false;
    const followed = followEvents(master.client, 'server1', async () => void (opened = true), () => {});
    await expect(followed).rejects.toThrow('began with a ping event, not with the MASTER\'s generation');
    expect(opened).toBe(false);
    await waitFor('the MASTER to see the stream closed', master.closed, 5_000);
  });

  it('holds the stream while the hello is handled (a sync), then gives the events that came meanwhile', async () => {
    const master = await fakeMaster(good);
    const events: StreamEvent[] = [];
    let release!: () => void;
    let helloSeen = false;
    const syncing = new Promise<void>((resolve) => (release = resolve));
    const followed = followEvents(master.client, 'server1', () => ((helloSeen = true), syncing), (event) => events.push(event));
    // The hello and the ping arrive in one chunk: a stream that did not wait would give the ping at once.
    await waitFor('the hello handled', () => helloSeen, 5_000);
    await new Promise(setImmediate);
    expect(events).toEqual([]);
    release();
    await waitFor('the ping after the hello', () => events.length === 1, 5_000);
    expect(events).toEqual([{ type: 'ping' }]);
    master.server.closeAllConnections();
    await followed;
  });

  it('rejects with what handling the hello threw', async () => {
    const master = await fakeMaster(good);
    await expect(followEvents(master.client, 'server1', async () => Promise.reject(new Error('no room for generation 4')), () => {})).rejects.toThrow('no room for generation 4');
  });

  it('ends the stream when the work an event started fails, so that the server re-attaches and retries it', async () => {
    const changed = { type: 'generation', generation: 5, digest: 'ef'.repeat(32) } as const;
    const master = await fakeMaster(`${JSON.stringify(hello)}\n${JSON.stringify(changed)}\n`);
    const followed = followEvents(master.client, 'server1', async () => {}, (event) => (event.type === 'generation' ? Promise.reject(new Error('sync failed')) : undefined));
    await expect(followed).resolves.toBeUndefined();
    await waitFor('the MASTER to see the stream closed', master.closed, 5_000);
  });
});

describe('the link to the MASTER', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Turns whose streams end as `ends` says, one call each (a stream that opened calls `opened` first); the rest hang. */
  function scripted(ends: Array<'fails' | 'opens-then-ends'>) {
    const seen = { follows: 0, failed: [] as string[], lost: 0 };
    const turns: LinkTurns = {
      follow: async (opened) => {
        const end = ends[seen.follows++];
        if (end === 'fails') throw new Error(`refused ${seen.follows}`);
        if (end === 'opens-then-ends') return opened();
        return new Promise<void>(() => {});
      },
      failed: (error) => void seen.failed.push((error as Error).message),
      lost: () => void seen.lost++,
    };
    return { seen, link: new MasterLink(turns) };
  }

  it('retries a lost stream with growing delays, and from the shortest again once a stream opened', async () => {
    vi.useFakeTimers();
    // Jitter in the middle of its range: at its extremes the retry after the opened stream could
    // fall inside the window given to the one before it, and the count would be off by one.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    onCleanup(() => {
      vi.restoreAllMocks();
    });
    const { seen, link } = scripted(['fails', 'fails', 'opens-then-ends', 'fails']);
    void link.run();
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual({ follows: 1, failed: ['refused 1'], lost: 1 });
    // The first retry waits between 70 % and all of the base delay; the second, of twice that.
    await vi.advanceTimersByTimeAsync(RETRY_BASE_MS * 0.7 - 1);
    expect(seen.follows).toBe(1);
    await vi.advanceTimersByTimeAsync(RETRY_BASE_MS * 0.3 + 1);
    expect(seen.follows).toBe(2);
    await vi.advanceTimersByTimeAsync(2 * RETRY_BASE_MS);
    expect(seen.follows).toBe(3);
    // That one opened: its loss is retried within the base delay, not four times it.
    await vi.advanceTimersByTimeAsync(RETRY_BASE_MS);
    expect(seen).toEqual({ follows: 4, failed: ['refused 1', 'refused 2', 'refused 4'], lost: 4 });
    link.stop();
  });

  it('retries at once when the MASTER announces itself, and stops without another turn', async () => {
    vi.useFakeTimers();
    const { seen, link } = scripted(['fails', 'fails', 'fails']);
    const running = link.run();
    await vi.advanceTimersByTimeAsync(0);
    link.retryNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.follows).toBe(2);
    link.stop();
    await running;
    await vi.advanceTimersByTimeAsync(10 * RETRY_BASE_MS);
    expect(seen).toEqual({ follows: 2, failed: ['refused 1', 'refused 2'], lost: 2 });
  });
});
