import type { Awareness } from './awareness.js';
import type { Clock } from './clock.js';

export interface Timer {
  handle: unknown;
  cancelled: boolean;
}

export interface SchedulerOptions {
  clock: Clock;
  awareness: Awareness;
  /** A timer this late (ms) means this process was not running. */
  stallThresholdMs: number;
  /** How long after a stall this member accuses no one. */
  stallQuietMs: number;
  logger?: (message: string) => void;
}

/**
 * The stall-aware scheduler: every timer of a membership goes through here. A timer that fires late
 * means this process was not running; before acting on it, packets that queued up meanwhile are
 * read (the timer is re-armed at 0 ms, which Node runs after the sockets), so a stall is never
 * mistaken for the peers' silence, and for a while afterwards (`quiet`) this member accuses no one.
 */
export class Scheduler {
  private readonly timers = new Set<Timer>();
  private readonly sleepers = new Set<() => void>();
  private quietUntil = -Infinity;
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {}

  /**
   * Runs `fire` in `ms`. `afterIo`: a verdict (a probe failed, a suspicion ran out) waits one more
   * turn of the event loop, so an answer already in the socket is read first, however late the
   * timer fired.
   */
  schedule(ms: number, fire: () => void, options: { afterIo?: boolean } = {}, timer: Timer = { handle: undefined, cancelled: false }): Timer {
    const { clock, stallThresholdMs } = this.options;
    const due = clock.monotonic() + ms;
    this.timers.add(timer);
    timer.handle = clock.setTimeout(() => {
      if (timer.cancelled || this.stopped) return;
      const late = clock.monotonic() - due;
      if (late > stallThresholdMs) this.noteStall(late);
      if (options.afterIo || late > stallThresholdMs) {
        this.schedule(0, fire, {}, timer);
        return;
      }
      this.timers.delete(timer);
      fire();
    }, ms);
    return timer;
  }

  cancel(timer: Timer): void {
    timer.cancelled = true;
    this.options.clock.clearTimeout(timer.handle);
    this.timers.delete(timer);
  }

  /** A pause inside an operation (leave); stop() meanwhile ends it rather than leaving it hanging. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleepers.delete(wake);
        resolve();
      };
      this.sleepers.add(wake);
      this.schedule(ms, wake);
    });
  }

  /** True for a while after this process stalled: the silence it saw was its own. */
  quiet(): boolean {
    return this.options.clock.monotonic() < this.quietUntil;
  }

  /** How long the quiet time still lasts (ms). */
  quietRemaining(): number {
    return Math.max(0, this.quietUntil - this.options.clock.monotonic());
  }

  /** Cancels every timer and wakes every sleeper. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) this.cancel(timer);
    for (const wake of this.sleepers) wake();
  }

  private noteStall(lateMs: number): void {
    const now = this.options.clock.monotonic();
    if (now >= this.quietUntil) {
      this.options.awareness.apply(1);
      this.options.logger?.(`this process stalled for ${Math.round(lateMs)} ms; accusing no one for ${this.options.stallQuietMs} ms`);
    }
    this.quietUntil = Math.max(this.quietUntil, now + this.options.stallQuietMs);
  }
}
