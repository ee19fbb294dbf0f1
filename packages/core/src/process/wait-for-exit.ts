import { FlotillaError } from '../errors.js';
import { isAlive } from './server-lock.js';

/** A graceful stop closes connections and writes state: seconds, not minutes. */
export const STOP_TIMEOUT_MS = 20_000;

export async function waitForExit(pid: number, what: string): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new FlotillaError(`${what} (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s; kill -9 ${pid} if it is hung`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
