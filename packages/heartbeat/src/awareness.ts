/**
 * Lifeguard's local health multiplier. When this member itself is slow (missed nacks, accusations
 * it had to refute, timers that fired late), the fault is more likely here than in the peers it
 * cannot hear, so it stretches its own timeouts instead of accusing them. Healthy probes bring the
 * score back down one step at a time.
 */
export class Awareness {
  private score = 0;

  constructor(private readonly max: number) {}

  /** Positive: worse health; negative: better. */
  apply(delta: number): void {
    this.score = Math.min(this.max, Math.max(0, this.score + delta));
  }

  get health(): number {
    return this.score;
  }

  /** A timeout stretched for the current health: (1 + score) × base. */
  scale(ms: number): number {
    return ms * (this.score + 1);
  }
}
