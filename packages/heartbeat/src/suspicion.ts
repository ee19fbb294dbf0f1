/**
 * Lifeguard's dynamic suspicion timeout. A suspicion starts long (maxMs) and shrinks toward minMs as
 * other members independently confirm it: a member that several peers cannot reach is very likely
 * dead, while one peer's lost packets leave the suspect time to refute.
 *
 *   timeout(c) = max(minMs, maxMs − (maxMs − minMs) · log(c + 1) / log(k + 1))
 *
 * with c confirmations received out of k expected.
 */
export interface SuspicionTimer {
  set(ms: number, fire: () => void): unknown;
  clear(handle: unknown): void;
  now(): number;
}

export class Suspicion {
  private readonly confirmers = new Set<string>();
  /** When the suspicion began (the timer's clock). */
  readonly started: number;
  private handle: unknown;

  constructor(
    private readonly timer: SuspicionTimer,
    /** The accuser whose suspicion started this; it does not count as a confirmation. */
    accuser: string,
    private readonly k: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly onTimeout: () => void,
  ) {
    this.started = timer.now();
    this.confirmers.add(accuser);
    this.arm();
  }

  /** Current timeout, counted from the start of the suspicion. */
  timeoutMs(): number {
    const confirmations = this.confirmers.size - 1;
    if (this.k < 1) return this.minMs;
    const fraction = Math.log(confirmations + 1) / Math.log(this.k + 1);
    return Math.max(this.minMs, Math.floor(this.maxMs - (this.maxMs - this.minMs) * fraction));
  }

  /** Records a confirmation; true if it came from a member not heard before (worth re-gossiping). */
  confirm(from: string): boolean {
    if (this.confirmers.has(from) || this.confirmers.size - 1 >= this.k) return false;
    this.confirmers.add(from);
    this.timer.clear(this.handle);
    this.arm();
    return true;
  }

  /** Who has accused the suspect so far, the first accuser included: they are the ones a refutation must reach first. */
  accusers(): string[] {
    return [...this.confirmers];
  }

  cancel(): void {
    this.timer.clear(this.handle);
  }

  private arm(): void {
    const remaining = Math.max(0, this.started + this.timeoutMs() - this.timer.now());
    this.handle = this.timer.set(remaining, this.onTimeout);
  }
}
