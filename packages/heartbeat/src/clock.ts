/**
 * Time as the membership sees it. Injected so that unit tests run the protocol on simulated time,
 * deterministically and in milliseconds of real time.
 */
export interface Clock {
  /** Monotonic milliseconds: deadlines and timer lateness. */
  monotonic(): number;
  /** Wall-clock milliseconds since 1970: event times and a process's epoch. */
  wall(): number;
  setTimeout(fire: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  monotonic: () => performance.now(),
  wall: () => Date.now(),
  setTimeout: (fire, ms) => setTimeout(fire, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
