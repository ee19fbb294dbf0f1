/**
 * The domain keys a member signs and checks packets with, across a rotation (`master rotate-key`,
 * docs/security.md "Rotating the domain key"). A rotation reaches the members one after another,
 * over as long as the MASTER's deliveries take, so no member may sign with a new key the moment it
 * gets it: a member that has not got it yet would drop those packets, and the two would suspect
 * each other. So a new key is taken at once but signed with only `switchMs` later (every running
 * member has it by then), and the old one is still taken for `graceMs` after that switch.
 */
export interface KeyRingTimings {
  /** From getting a new key to signing with it: timings.rekeySwitchMs. */
  switchMs: number;
  /** After the switch, how long the previous key is still taken: timings.rekeyGraceMs. */
  graceMs: number;
}

interface Rotation {
  next: Buffer;
  previous: Buffer;
  /** Monotonic milliseconds: signing with `next` from then on. */
  switchAt: number;
  /** Monotonic milliseconds: `previous` is taken until then. */
  until: number;
}

export class KeyRing {
  private current: Buffer;
  private rotation?: Rotation;

  constructor(
    key: Buffer,
    private readonly timings: KeyRingTimings,
  ) {
    this.current = key;
  }

  /** A new key, at `now`: taken from now on, signed with from `now + switchMs`. */
  rotate(next: Buffer, now: number): void {
    const switchAt = now + this.timings.switchMs;
    this.rotation = { next, previous: this.signing(now), switchAt, until: switchAt + this.timings.graceMs };
  }

  /**
   * A key rotated while this member was away (a key refresh): signed with at once, as the others do
   * already or will within switchMs; the key it held is still taken for switchMs + graceMs, since
   * the others may sign with it until their switch.
   */
  caughtUp(next: Buffer, now: number): void {
    const previous = this.signing(now);
    this.current = next;
    this.rotation = { next, previous, switchAt: now, until: now + this.timings.switchMs + this.timings.graceMs };
  }

  /** The key to sign with at `now`. */
  signing(now: number): Buffer {
    const rotation = this.rotation;
    if (rotation && now >= rotation.switchAt) this.current = rotation.next;
    return this.current;
  }

  /** The other key taken at `now`, besides the signing one, if a rotation is under way. */
  alternative(now: number): Buffer | undefined {
    const rotation = this.rotation;
    if (!rotation) return undefined;
    if (now > rotation.until) {
      this.rotation = undefined;
      return undefined;
    }
    return this.signing(now) === rotation.next ? rotation.previous : rotation.next;
  }
}
