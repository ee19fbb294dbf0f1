import type { HeartbeatMeta, ServerStatus as DomainServerStatus } from '@flotilla/core';

/**
 * The membership state machine, all of it in one place. Every fact a member learns about another,
 * from a packet's sender or from gossip, is a claim; this module alone decides what a claim does.
 *
 *   claim \ state   (unknown)          ALIVE              SUSPECT             FAILED              LEFT
 *   alive  newer    ALIVE  joined      ALIVE (update)     ALIVE  refuted      ALIVE  rejoined     ALIVE  joined
 *   suspect ≥       ignored            SUSPECT suspected  confirmation (=)    ignored             ignored
 *                                                         renewed (newer)
 *   dead    ≥       ignored            FAILED failed      FAILED failed       ignored             ignored
 *   leave   ≥       ignored            LEFT   left        LEFT   left         ignored             ignored
 *
 * "newer" and "≥" compare (epoch, incarnation) with the member's current one; anything older is
 * ignored. A suspicion of a newer version than the one held is a new one (the refutation between
 * was missed here): its timer starts again. Only the member itself makes its version newer (by refuting, or by restarting), so only
 * it can clear an accusation: that is what makes a suspicion safe to spread.
 *
 * An alive claim counts only for a run (epoch) of the member that has proven to this member that it
 * is live now, by answering a challenge (liveness-challenge.ts): a captured packet replayed to a
 * receiver that has just started carries a version that receiver has never seen. A newer alive
 * claim for an unproven run changes nothing and is answered 'unproven': the caller challenges it.
 */

export type MemberState = 'ALIVE' | 'SUSPECT' | 'FAILED' | 'LEFT';

/** The status (core's `ServerStatus`, docs/contract.md#states) that each membership state is reported as. */
export const STATUS_OF = Object.freeze({
  ALIVE: 'RUNNING',
  SUSPECT: 'FAILURE_SUSPECTED',
  FAILED: 'FAILED',
  LEFT: 'SHUTDOWN',
} as const satisfies Record<MemberState, DomainServerStatus>);

/** The statuses membership tells of a server: the part of core's `ServerStatus` that STATUS_OF reaches. */
export type ServerStatus = (typeof STATUS_OF)[MemberState];

export type MembershipEventKind = 'joined' | 'suspected' | 'refuted' | 'failed' | 'left' | 'rejoined';

export interface Version {
  epoch: number;
  incarnation: number;
}

export interface MemberRecord extends Version {
  name: string;
  state: MemberState;
  address: string;
  port: number;
  observer: boolean;
  meta: HeartbeatMeta;
  /** When the member entered its state (ms since 1970). */
  since: number;
}

export type Claim =
  | ({ kind: 'alive'; address: string; port: number; observer: boolean; meta: HeartbeatMeta; provenLive: boolean } & Version)
  | ({ kind: 'suspect'; from: string } & Version)
  | ({ kind: 'dead'; from: string } & Version)
  | ({ kind: 'leave' } & Version);

export interface Transition {
  record: MemberRecord;
  /** Present when the state changed in a way a watcher sees. */
  event?: { kind: MembershipEventKind; from: ServerStatus; to: ServerStatus };
  /** A suspect claim about a member already suspected: one more accuser. */
  confirmation?: boolean;
  /** A suspect claim about a member suspected at an older version: a new suspicion. */
  renewed?: boolean;
}

export function compareVersions(a: Version, b: Version): number {
  return a.epoch - b.epoch || a.incarnation - b.incarnation;
}

/** What `claim` does to `current`; undefined when it changes nothing; 'unproven' when it would, once proven. */
export function applyClaim(name: string, current: MemberRecord | undefined, claim: Claim, now: number): Transition | 'unproven' | undefined {
  if (claim.kind === 'alive') {
    if (current && compareVersions(claim, current) <= 0) return undefined;
    if (!claim.provenLive) return 'unproven';
    const fresh = (state: MemberState): MemberRecord => ({
      name,
      state,
      epoch: claim.epoch,
      incarnation: claim.incarnation,
      address: claim.address,
      port: claim.port,
      observer: claim.observer,
      meta: claim.meta,
      since: current && current.state === state ? current.since : now,
    });
    if (!current) return { record: fresh('ALIVE'), event: event('joined', 'LEFT', 'ALIVE') };
    const record = fresh('ALIVE');
    switch (current.state) {
      case 'ALIVE':
        return { record };
      case 'SUSPECT':
        return { record, event: event('refuted', 'SUSPECT', 'ALIVE') };
      case 'FAILED':
        return { record, event: event('rejoined', 'FAILED', 'ALIVE') };
      case 'LEFT':
        return { record, event: event('joined', 'LEFT', 'ALIVE') };
    }
  }

  if (!current || current.state === 'FAILED' || current.state === 'LEFT') return undefined;
  if (compareVersions(claim, current) < 0) return undefined;
  const moved = (state: MemberState): MemberRecord => ({
    ...current,
    state,
    epoch: claim.epoch,
    incarnation: claim.incarnation,
    since: current.state === state ? current.since : now,
  });
  switch (claim.kind) {
    case 'suspect':
      if (current.state === 'SUSPECT') {
        return compareVersions(claim, current) > 0 ? { record: moved('SUSPECT'), renewed: true } : { record: moved('SUSPECT'), confirmation: true };
      }
      return { record: moved('SUSPECT'), event: event('suspected', 'ALIVE', 'SUSPECT') };
    case 'dead':
      return { record: moved('FAILED'), event: event('failed', current.state, 'FAILED') };
    case 'leave':
      return { record: moved('LEFT'), event: event('left', current.state, 'LEFT') };
  }
}

function event(kind: MembershipEventKind, from: MemberState, to: MemberState): Transition['event'] {
  return { kind, from: STATUS_OF[from], to: STATUS_OF[to] };
}
