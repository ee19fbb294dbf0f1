import type { HeartbeatMessage, HeartbeatSender } from '@flotilla/core';
import { describe, expect, it } from 'vitest';
import { LivenessChallenges, randomNonce } from './liveness-challenge.js';
import type { Endpoint } from './transport.js';

function setup(attempts = 3) {
  let now = 0;
  const armed: Array<{ at: number; fire: () => void; cleared: boolean }> = [];
  const sent: Array<{ to: Endpoint; ping: HeartbeatMessage; alongside: HeartbeatMessage[] }> = [];
  let nonce = 1000;
  const challenges = new LivenessChallenges({
    self: 'master',
    attempts,
    retryMs: 100,
    timer: {
      set: (ms, fire) => armed[armed.push({ at: now + ms, fire, cleared: false }) - 1],
      clear: (handle) => void ((handle as { cleared: boolean }).cleared = true),
    },
    nonce: () => ++nonce,
    send: (to, messages) => sent.push({ to, ping: messages.at(-1)!, alongside: messages.slice(0, -1) }),
  });
  const advance = (ms: number) => {
    now += ms;
    for (const timer of armed.filter((t) => !t.cleared && t.at <= now)) {
      timer.cleared = true;
      timer.fire();
    }
  };
  return { challenges, sent, advance };
}

const s1 = (epoch = 5): HeartbeatSender => ({ name: 's1', epoch, incarnation: 0, seq: 9, address: '127.0.0.1', port: 1 });
const ack = (id: number, target = 'master'): HeartbeatMessage[] => [{ type: 'ack', id, target }];
const endpoint = { address: '127.0.0.1', port: 1 };

describe('liveness challenges', () => {
  it('believes a run only once it echoes the nonce of a challenge, addressed to this member', () => {
    const { challenges, sent } = setup();
    expect(challenges.isProven('s1', 5)).toBe(false);
    challenges.challenge('s1', endpoint);
    expect(sent).toEqual([{ to: endpoint, ping: { type: 'ping', id: 1001, target: 's1' }, alongside: [] }]);
    expect(challenges.acceptAnswer(s1(), ack(1000))).toBe(false); // an ack of an earlier run's ping
    expect(challenges.acceptAnswer(s1(), ack(1001, 'watch'))).toBe(false); // someone else's answer
    expect(challenges.acceptAnswer(s1(), ack(1001))).toBe(true);
    expect(challenges.isProven('s1', 5)).toBe(true);
    expect(challenges.isProven('s1', 6)).toBe(false); // a restart proves itself again
    expect(challenges.acceptAnswer(s1(), ack(1001))).toBe(false); // answered once
  });

  it('retries a few times, then lets the nonce expire; one challenge at a time however many packets come', () => {
    const { challenges, sent, advance } = setup(3);
    for (let i = 0; i < 50; i++) challenges.challenge('s1', endpoint);
    advance(100);
    advance(100);
    expect(sent.map((s) => s.ping)).toEqual(Array(3).fill({ type: 'ping', id: 1001, target: 's1' }));
    advance(100);
    expect(challenges.acceptAnswer(s1(), ack(1001))).toBe(false); // too late to prove anything about now
    challenges.challenge('s1', endpoint);
    expect(sent.at(-1)!.ping).toEqual({ type: 'ping', id: 1002, target: 's1' });
  });

  it('sends our answer to the member in the packet of a new challenge, and leaves it to the caller when one is pending', () => {
    const { challenges, sent } = setup();
    const answer: HeartbeatMessage = { type: 'ack', id: 77, target: 's1' };
    expect(challenges.challenge('s1', endpoint, [answer])).toBe(true);
    expect(sent).toEqual([{ to: endpoint, ping: { type: 'ping', id: 1001, target: 's1' }, alongside: [answer] }]);
    expect(challenges.challenge('s1', endpoint, [answer])).toBe(false);
    expect(sent).toHaveLength(1);
  });

  it('a forgotten member proves itself again', () => {
    const { challenges } = setup();
    challenges.challenge('s1', endpoint);
    challenges.acceptAnswer(s1(), ack(1001));
    challenges.forget('s1');
    expect(challenges.isProven('s1', 5)).toBe(false);
  });

  it('nonces are valid ping ids and do not repeat', () => {
    const nonces = Array.from({ length: 1000 }, randomNonce);
    expect(nonces.every((n) => Number.isSafeInteger(n) && n >= 0)).toBe(true);
    expect(new Set(nonces).size).toBe(1000);
  });
});
