import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ExitCode, FlotillaError, type ExitCodeValue } from '../errors.js';
import { onStopSignals } from './signals.js';

/** Set in the environment of the background child, so it knows to report readiness. */
const DETACHED_ENV = 'FLOTILLA_DETACHED';

interface ReadyMessage {
  type: 'flotilla-ready';
  pid: number;
}

/**
 * `start --detach`: runs the same command again in the background with its output appended to
 * `logFile`, waits until it reports that it serves (or dies), and returns its PID. A failure comes
 * back with the child's own exit code and the last thing it said.
 */
export async function startDetached(args: string[], logFile: string): Promise<number> {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, 'a');
  const startedAt = readFileSync(logFile).length;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
    env: { ...process.env, [DETACHED_ENV]: '1' },
  });
  closeSync(log);
  // Interrupted while waiting: the half-started server (and what it spawned, its process group) is
  // stopped and waited for, so nothing is left running that the operator did not get a PID for.
  const restoreSignals = onStopSignals(() => {
    child.removeAllListeners('exit');
    child.once('exit', () => process.exit(ExitCode.interrupted));
    signalGroup(child.pid!, 'SIGTERM');
    setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), INTERRUPTED_START_GRACE_MS).unref();
  });
  return new Promise<number>((resolve, reject) => {
    child.once('message', (message: ReadyMessage) => {
      if (message?.type !== 'flotilla-ready') return;
      restoreSignals();
      child.removeAllListeners('exit');
      child.disconnect();
      child.unref();
      resolve(message.pid);
    });
    child.once('exit', (code, signal) => {
      restoreSignals();
      const said = readFileSync(logFile, 'utf8').slice(startedAt);
      // The CLI's own error line ("master: …") is what the user needs; log lines are JSON.
      const lastError = said.split('\n').filter((line) => line && !line.startsWith('{')).pop();
      const exitCode = (code ?? ExitCode.failed) as ExitCodeValue;
      reject(new FlotillaError(lastError?.replace(/^[a-z-]+: /, '') ?? `the server exited (${signal ?? code}) before serving; see ${logFile}`, exitCode));
    });
  });
}

/** A server interrupted while starting stops in well under this; past it, it is killed. */
const INTERRUPTED_START_GRACE_MS = 10_000;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** True in the background child of `start --detach`. */
export function isDetachedChild(): boolean {
  return process.env[DETACHED_ENV] === '1' && typeof process.send === 'function';
}

/** Tells the waiting `start --detach` that this server serves; it then returns and we run on alone. */
export function reportReady(): void {
  // The waiting parent may be gone (interrupted): then there is nobody to tell.
  if (!isDetachedChild() || !process.connected) return;
  process.send!({ type: 'flotilla-ready', pid: process.pid } satisfies ReadyMessage);
  process.disconnect?.();
}
