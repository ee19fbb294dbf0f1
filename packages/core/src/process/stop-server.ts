import type { PeerClient } from '../protocol/http-client.js';
import { PeerUnreachableError } from '../protocol/peer-errors.js';
import { parseMessage } from '../protocol/parse-message.js';
import { API_PREFIX, StopAnswerSchema } from '../protocol/sync.js';
import { runningPid } from './server-lock.js';
import { waitForExit } from './wait-for-exit.js';

/**
 * Stops a MASTER or a managed server gracefully: asks it over its management port, or, when it does
 * not answer (still starting, hung), sends SIGTERM to the PID in its pid file; then waits until the
 * process is gone. Returns the PID stopped, or undefined when nothing was running.
 */
export async function stopServer(client: PeerClient, pidFile: string, what: string): Promise<number | undefined> {
  let pid: number | undefined;
  try {
    ({ pid } = parseMessage(StopAnswerSchema, await client.request('POST', `${API_PREFIX}/stop`), `the answer of ${what} at ${client.where}`));
  } catch (error) {
    if (!(error instanceof PeerUnreachableError)) throw error;
    pid = await runningPid(pidFile);
    if (pid === undefined) return undefined;
    process.kill(pid, 'SIGTERM');
  } finally {
    client.close();
  }
  await waitForExit(pid, what);
  return pid;
}
