import { randomBytes } from 'node:crypto';
import type { HeartbeatMessage, HeartbeatSender } from '@flotilla/core';
import type { Endpoint } from './transport.js';

/**
 * Replay protection that survives a restart of the receiver (packages/heartbeat/README.md).
 *
 * The replay window (replay.ts) lives in memory. A member that has just started, or that hears a
 * run (epoch) of a sender for the first time, has no window for that run, and a capture of the
 * sender's packets would pass as new: a dead server would show RUNNING until its next missed probe.
 * So no packet of such a run is believed on its own. This member challenges the sender with a
 * direct ping whose id is a fresh random nonce, and believes the run only once an authenticated ack
 * echoes that nonce: a capture cannot answer a nonce drawn after it was made. From then on the
 * replay window takes over, starting at the answer (ReplayGuard.refuseBefore).
 *
 * It needs no disk and no clock shared between machines, and a restored MASTER on a new machine is
 * protected the same way. The price is one round trip before a member is first reported, and an
 * ordinary ping is the challenge, so members of earlier releases answer it.
 */

export interface ChallengeTimer {
  set(ms: number, fire: () => void): unknown;
  clear(handle: unknown): void;
}

export interface LivenessChallengeOptions {
  /** This member's name: an answer is an ack addressed to it. */
  self: string;
  /** Direct pings per challenge (config.ts challengeAttempts). */
  attempts: number;
  /** Between attempts: as long as a direct ping may take to be answered (probeTimeoutMs). */
  retryMs: number;
  timer: ChallengeTimer;
  nonce: () => number;
  /** One packet: the challenge, with whatever goes to the member anyway. */
  send: (to: Endpoint, messages: HeartbeatMessage[]) => void;
}

interface PendingChallenge {
  nonce: number;
  to: Endpoint;
  attemptsLeft: number;
  retry: unknown;
}

/** 48 random bits: a safe integer (a valid ping id), and no earlier run's id to match. */
export function randomNonce(): number {
  return randomBytes(6).readUIntBE(0, 6);
}

export class LivenessChallenges {
  /** Per member, the run (epoch) that answered a challenge of ours. */
  private readonly proven = new Map<string, number>();
  private readonly pending = new Map<string, PendingChallenge>();

  constructor(private readonly options: LivenessChallengeOptions) {}

  /** Whether this run of the member has proven to us that it is live; only then is it believed. */
  isProven(name: string, epoch: number): boolean {
    return this.proven.get(name) === epoch;
  }

  /**
   * Asks the member to prove it runs now. One challenge per member at a time: however many
   * replayed packets arrive, it costs at most one ping per `retryMs`. `alongside` (our answers to
   * its own challenge, when two members meet) rides in the same packet as a new challenge, so that
   * two members proving themselves to each other take three packets, not four; false when no new
   * challenge went out and the caller must send `alongside` itself.
   */
  challenge(name: string, to: Endpoint, alongside: HeartbeatMessage[] = []): boolean {
    const pending = this.pending.get(name);
    if (pending) {
      pending.to = to;
      return false;
    }
    const fresh: PendingChallenge = { nonce: this.options.nonce(), to, attemptsLeft: this.options.attempts, retry: undefined };
    this.pending.set(name, fresh);
    this.attempt(name, fresh, alongside);
    return true;
  }

  /** true when the packet answers our challenge: this run of its sender is believed from now on. */
  acceptAnswer(sender: HeartbeatSender, messages: HeartbeatMessage[]): boolean {
    const pending = this.pending.get(sender.name);
    if (!pending || !messages.some((m) => m.type === 'ack' && m.id === pending.nonce && m.target === this.options.self)) return false;
    this.options.timer.clear(pending.retry);
    this.pending.delete(sender.name);
    this.proven.set(sender.name, sender.epoch);
    return true;
  }

  /** A member forgotten here must prove itself again, so forgetting is always safe. */
  forget(name: string): void {
    const pending = this.pending.get(name);
    if (pending) this.options.timer.clear(pending.retry);
    this.pending.delete(name);
    this.proven.delete(name);
  }

  private attempt(name: string, pending: PendingChallenge, alongside: HeartbeatMessage[] = []): void {
    pending.attemptsLeft--;
    this.options.send(pending.to, [...alongside, { type: 'ping', id: pending.nonce, target: name }]);
    pending.retry = this.options.timer.set(this.options.retryMs, () => {
      if (pending.attemptsLeft > 0) return this.attempt(name, pending);
      // Unanswered: the nonce expires, so an answer held back and delivered later proves nothing
      // about now. The member's next packet starts a new challenge.
      this.pending.delete(name);
    });
  }
}
