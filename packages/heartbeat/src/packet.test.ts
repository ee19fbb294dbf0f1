import { HEARTBEAT_PACKET_MAX_BYTES, type HeartbeatMessage, type HeartbeatSender } from '@flotilla/core';
import { describe, expect, it } from 'vitest';
import { decodePacket, encodePacket } from './packet.js';
import { ReplayGuard, REPLAY_WINDOW } from './replay.js';
import { Suspicion } from './suspicion.js';

const key = Buffer.alloc(32, 1);
const sender: HeartbeatSender = { name: 'server1', epoch: 1, incarnation: 0, seq: 1, address: '127.0.0.1', port: 3030, meta: { pid: 1 } };

describe('packet codec', () => {
  it('round-trips a signed packet', () => {
    const messages: HeartbeatMessage[] = [{ type: 'ping', id: 3, target: 'server2' }];
    const { packet } = encodePacket(key, 'domain1', sender, messages);
    expect(packet.subarray(0, 4).toString()).toBe('FLHB');
    expect(decodePacket(key, 'domain1', packet)).toEqual({ ok: true, packet: { version: 1, domain: 'domain1', sender, messages } });
  });

  it('piggybacks gossip only while the packet stays under the cap', () => {
    const gossip: HeartbeatMessage[] = Array.from({ length: 100 }, (_, i) => ({ type: 'suspect', server: `server${i}`, epoch: 1, incarnation: i, from: 'server1' }));
    const { packet, included } = encodePacket(key, 'domain1', sender, [], gossip);
    expect(included).toBeGreaterThan(5);
    expect(included).toBeLessThan(100);
    expect(packet.length).toBeLessThanOrEqual(HEARTBEAT_PACKET_MAX_BYTES);
    const decoded = decodePacket(key, 'domain1', packet);
    expect(decoded.ok && decoded.packet.messages).toHaveLength(included);
  });

  it('tells every kind of bad datagram apart', () => {
    const { packet } = encodePacket(key, 'domain1', sender, []);
    expect(decodePacket(key, 'domain2', packet)).toEqual({ ok: false, reason: 'foreignDomain' });
    expect(decodePacket(Buffer.alloc(32, 2), 'domain1', packet)).toEqual({ ok: false, reason: 'badSignature' });
    expect(decodePacket(key, 'domain1', Buffer.alloc(2000))).toEqual({ ok: false, reason: 'oversize' });
    expect(decodePacket(key, 'domain1', Buffer.from('hello'))).toEqual({ ok: false, reason: 'malformed' });
    const otherVersion = Buffer.from(packet);
    otherVersion[4] = 99;
    expect(decodePacket(key, 'domain1', otherVersion)).toEqual({ ok: false, reason: 'malformed' });
    // Signed, but not a valid body: checked after the MAC, still refused.
    const bad = encodePacket(key, 'domain1', { ...sender, seq: -1 }, []).packet;
    expect(decodePacket(key, 'domain1', bad)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('skips message types of a newer release and keeps the rest', () => {
    const future = { type: 'gossip-v2', x: 1 } as unknown as HeartbeatMessage;
    const { packet } = encodePacket(key, 'domain1', sender, [future, { type: 'ack', id: 1, target: 'server2' }]);
    const decoded = decodePacket(key, 'domain1', packet);
    expect(decoded.ok && decoded.packet.messages).toEqual([{ type: 'ack', id: 1, target: 'server2' }]);
  });
});

describe('replay guard', () => {
  it('accepts each (epoch, sequence) once, out of order within the window', () => {
    const guard = new ReplayGuard();
    expect(guard.accept('s', 1, 10)).toBe(true);
    expect(guard.accept('s', 1, 10)).toBe(false);
    expect(guard.accept('s', 1, 8)).toBe(true);
    expect(guard.accept('s', 1, 8)).toBe(false);
    expect(guard.accept('s', 1, 10 + REPLAY_WINDOW)).toBe(true);
    expect(guard.accept('s', 1, 9)).toBe(false); // fell out of the window
    expect(guard.accept('s', 0, 1_000_000)).toBe(false); // an earlier run
    expect(guard.accept('s', 2, 1)).toBe(true); // a restart numbers from the start again
    expect(guard.accept('t', 1, 10)).toBe(true); // senders are independent
  });

  it('refuses what a run sent before it proved it is live, whatever the window would allow', () => {
    const guard = new ReplayGuard();
    expect(guard.accept('s', 1, 100)).toBe(true); // maybe a capture: not believed yet
    expect(guard.accept('s', 1, 120)).toBe(true); // the answer to the challenge
    guard.refuseBefore('s', 1, 120);
    expect(guard.accept('s', 1, 119)).toBe(false);
    expect(guard.accept('s', 1, 121)).toBe(true);
    guard.refuseBefore('s', 0, 1_000); // another run's answer moves nothing
    expect(guard.accept('s', 1, 122)).toBe(true);
    expect(guard.accept('s', 2, 1)).toBe(true); // a restart starts a window of its own
  });
});

describe('Lifeguard suspicion timeout', () => {
  function timer() {
    let now = 0;
    const armed: Array<{ at: number; fire: () => void; cleared: boolean }> = [];
    return {
      timer: {
        set: (ms: number, fire: () => void) => armed[armed.push({ at: now + ms, fire, cleared: false }) - 1],
        clear: (handle: unknown) => void ((handle as { cleared: boolean }).cleared = true),
        now: () => now,
      },
      armed,
      advance: (ms: number) => (now += ms),
    };
  }

  it('starts at the maximum and shrinks with independent confirmations to the minimum', () => {
    const t = timer();
    const suspicion = new Suspicion(t.timer, 'a', 3, 300, 1800, () => {});
    expect(suspicion.timeoutMs()).toBe(1800);
    expect(suspicion.confirm('a')).toBe(false); // the accuser itself
    expect(suspicion.confirm('b')).toBe(true);
    expect(suspicion.confirm('b')).toBe(false);
    expect(suspicion.timeoutMs()).toBe(1050);
    suspicion.confirm('c');
    suspicion.confirm('d');
    expect(suspicion.timeoutMs()).toBe(300);
    expect(suspicion.confirm('e')).toBe(false); // enough already
    expect(t.armed.filter((a) => !a.cleared).map((a) => a.at)).toEqual([300]);
  });

  it('fires at once when confirmations arrive after the shorter timeout has passed', () => {
    const t = timer();
    const suspicion = new Suspicion(t.timer, 'a', 1, 300, 1800, () => {});
    t.advance(500);
    suspicion.confirm('b');
    expect(t.armed.at(-1)!.at).toBe(500);
  });

  it('uses the minimum when the group is too small to confirm', () => {
    expect(new Suspicion(timer().timer, 'a', 0, 300, 1800, () => {}).timeoutMs()).toBe(300);
  });
});
