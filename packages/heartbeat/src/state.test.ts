import { describe, expect, it } from 'vitest';
import { applyClaim, compareVersions, type Claim, type MemberRecord, type Transition } from './state.js';

const alive = (epoch: number, incarnation: number, provenLive = true): Claim => ({ kind: 'alive', epoch, incarnation, address: '127.0.0.1', port: 1, observer: false, meta: {}, provenLive });
const suspect = (epoch: number, incarnation: number, from = 'a'): Claim => ({ kind: 'suspect', epoch, incarnation, from });
const dead = (epoch: number, incarnation: number): Claim => ({ kind: 'dead', epoch, incarnation, from: 'a' });
const leave = (epoch: number, incarnation: number): Claim => ({ kind: 'leave', epoch, incarnation });

/** applyClaim for claims that need no proof of life: every alive() is proven unless it says not. */
function apply(...args: Parameters<typeof applyClaim>): Transition | undefined {
  const outcome = applyClaim(...args);
  if (outcome === 'unproven') throw new Error('the claim unexpectedly needs a proof of life');
  return outcome;
}

function record(state: MemberRecord['state'], epoch = 1, incarnation = 2): MemberRecord {
  return { name: 's', state, epoch, incarnation, address: '127.0.0.1', port: 1, observer: false, meta: {}, since: 0 };
}

describe('the membership state machine', () => {
  it('orders versions by epoch, then incarnation', () => {
    expect(compareVersions({ epoch: 2, incarnation: 0 }, { epoch: 1, incarnation: 9 })).toBeGreaterThan(0);
    expect(compareVersions({ epoch: 1, incarnation: 3 }, { epoch: 1, incarnation: 4 })).toBeLessThan(0);
    expect(compareVersions({ epoch: 1, incarnation: 4 }, { epoch: 1, incarnation: 4 })).toBe(0);
  });

  it('a first alive is a join, from SHUTDOWN to RUNNING', () => {
    expect(applyClaim('s', undefined, alive(1, 0), 5)).toMatchObject({
      record: { state: 'ALIVE', since: 5 },
      event: { kind: 'joined', from: 'SHUTDOWN', to: 'RUNNING' },
    });
  });

  it('only a newer alive clears a suspicion or a failure', () => {
    expect(applyClaim('s', record('SUSPECT'), alive(1, 2), 0)).toBeUndefined();
    expect(apply('s', record('SUSPECT'), alive(1, 3), 0)?.event).toEqual({ kind: 'refuted', from: 'FAILURE_SUSPECTED', to: 'RUNNING' });
    expect(applyClaim('s', record('FAILED'), alive(1, 2), 0)).toBeUndefined();
    expect(apply('s', record('FAILED'), alive(1, 3), 0)?.event).toEqual({ kind: 'rejoined', from: 'FAILED', to: 'RUNNING' });
    // A restarted process: a new epoch outranks any incarnation of the old one.
    expect(apply('s', record('FAILED', 1, 9), alive(2, 0), 0)?.event?.kind).toBe('rejoined');
    expect(apply('s', record('LEFT'), alive(2, 0), 0)?.event).toEqual({ kind: 'joined', from: 'SHUTDOWN', to: 'RUNNING' });
    expect(applyClaim('s', record('ALIVE'), alive(1, 3), 0)).toEqual({ record: expect.objectContaining({ state: 'ALIVE', incarnation: 3 }) });
  });

  it('suspicion applies to the current or a newer incarnation, and repeats are confirmations', () => {
    expect(applyClaim('s', record('ALIVE'), suspect(1, 1), 0)).toBeUndefined();
    expect(apply('s', record('ALIVE'), suspect(1, 2), 0)?.event).toEqual({ kind: 'suspected', from: 'RUNNING', to: 'FAILURE_SUSPECTED' });
    expect(applyClaim('s', record('SUSPECT'), suspect(1, 2, 'b'), 0)).toMatchObject({ confirmation: true });
    // The refutation between was missed here: a new suspicion, with its own timer.
    expect(applyClaim('s', record('SUSPECT'), suspect(1, 3, 'b'), 0)).toMatchObject({ renewed: true, record: { state: 'SUSPECT', incarnation: 3 } });
    expect(applyClaim('s', undefined, suspect(1, 2), 0)).toBeUndefined();
    expect(applyClaim('s', record('FAILED'), suspect(1, 5), 0)).toBeUndefined();
  });

  it('dead and leave end a live member, and never a departed one', () => {
    expect(apply('s', record('SUSPECT'), dead(1, 2), 0)?.event).toEqual({ kind: 'failed', from: 'FAILURE_SUSPECTED', to: 'FAILED' });
    expect(apply('s', record('ALIVE'), dead(1, 2), 0)?.event).toEqual({ kind: 'failed', from: 'RUNNING', to: 'FAILED' });
    expect(applyClaim('s', record('ALIVE'), dead(1, 1), 0)).toBeUndefined();
    expect(apply('s', record('SUSPECT'), leave(1, 2), 0)?.event).toEqual({ kind: 'left', from: 'FAILURE_SUSPECTED', to: 'SHUTDOWN' });
    expect(applyClaim('s', record('FAILED'), leave(1, 2), 0)).toBeUndefined();
    expect(applyClaim('s', record('LEFT'), dead(1, 2), 0)).toBeUndefined();
  });

  it('an alive claim of a run that has not proven it is live changes nothing, and asks for the proof', () => {
    expect(applyClaim('s', undefined, alive(1, 0, false), 0)).toBe('unproven');
    // A replayed packet of a dead member's later run must not bring it back...
    expect(applyClaim('s', record('FAILED'), alive(2, 0, false), 0)).toBe('unproven');
    expect(applyClaim('s', record('LEFT'), alive(2, 0, false), 0)).toBe('unproven');
    // ...and one of an older version needs no proof to be ignored.
    expect(applyClaim('s', record('ALIVE'), alive(1, 2, false), 0)).toBeUndefined();
  });
});
