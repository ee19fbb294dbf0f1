import { describe, expect, it } from 'vitest';
import { KeyRing } from './key-ring.js';

const OLD = Buffer.alloc(32, 1);
const NEW = Buffer.alloc(32, 2);
const timings = { switchMs: 5_000, graceMs: 30_000 };

describe('KeyRing: the keys across a rotation', () => {
  it('takes a new key at once, signs with it after switchMs, and takes the old one for graceMs after that', () => {
    const ring = new KeyRing(OLD, timings);
    expect(ring.alternative(0)).toBeUndefined();
    ring.rotate(NEW, 1_000);
    expect(ring.signing(1_000)).toBe(OLD);
    expect(ring.alternative(1_000)).toBe(NEW);
    expect(ring.signing(5_999)).toBe(OLD);
    expect(ring.signing(6_000)).toBe(NEW);
    expect(ring.alternative(6_000)).toBe(OLD);
    expect(ring.alternative(36_000)).toBe(OLD);
    expect(ring.alternative(36_001)).toBeUndefined();
    expect(ring.signing(40_000)).toBe(NEW);
  });

  it('a key caught up with after a rotation made elsewhere is signed with at once; the old one is taken while the others may still sign with it', () => {
    const ring = new KeyRing(OLD, timings);
    ring.caughtUp(NEW, 1_000);
    expect(ring.signing(1_000)).toBe(NEW);
    expect(ring.alternative(1_000)).toBe(OLD);
    expect(ring.alternative(36_000)).toBe(OLD);
    expect(ring.alternative(36_001)).toBeUndefined();
  });

  it('a second rotation before the first switched replaces it: the key signed with until then stays taken', () => {
    const ring = new KeyRing(OLD, timings);
    ring.rotate(NEW, 0);
    const third = Buffer.alloc(32, 3);
    ring.rotate(third, 1_000);
    expect(ring.signing(1_000)).toBe(OLD);
    expect(ring.alternative(1_000)).toBe(third);
    expect(ring.signing(6_000)).toBe(third);
    expect(ring.alternative(6_000)).toBe(OLD);
  });
});
