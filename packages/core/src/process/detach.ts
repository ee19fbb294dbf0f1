import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ExitCode, FlotillaError, type ExitCodeValue } from '../errors.js';
import { openLogFile } from '../logs/log-file.js';
import { onStopSignals } from './signals.js';

/** Set in the environment of the background child, so it knows to report readiness. */
const DETACHED_ENV = 'FLOTILLA_DETACHED';
/** The background child's log file, which it writes itself (detachedOutput). */
const LOG_FILE_ENV = 'FLOTILLA_LOG_FILE';

interface ReadyMessage {
  type: 'flotilla-ready';
  pid: number;
}

/**
 * Node options of a MASTER or server started with --detach (docs/operations.md#memory). Their
 * garbage is short-lived (requests, proxied chunks, TLS handshakes of strangers); V8's default
 * young generation grows to 16 MiB semi-spaces (48 MiB in all) under load and keeps them resident.
 * 4 MiB holds what is in flight and costs a scavenge every few milliseconds at full load: 15-20 MiB
 * less resident memory under the proxy bench's load, and about 5 MiB less kept by a MASTER after
 * 400 slow strangers (the benches measure both).
 */
const DETACHED_NODE_FLAGS = ['--max-semi-space-size=4'];

/**
 * `start --detach`: runs the same command again in the background with its output appended to
 * `logFile`, waits until it reports that it serves (or dies), and returns its PID. A failure comes
 * back with the child's own exit code and the last thing it said. It runs with DETACHED_NODE_FLAGS
 * unless the operator set the same option (on node's command line or in NODE_OPTIONS), which then
 * wins.
 */
export async function startDetached(args: string[], logFile: string): Promise<number> {
  const nodeFlags = DETACHED_NODE_FLAGS;
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, 'a');
  const startedAt = readFileSync(logFile).length;
  const child = spawn(process.execPath, [...unlessOperatorSet(nodeFlags), ...process.execArgv, process.argv[1]!, ...args], {
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
    env: { ...process.env, [DETACHED_ENV]: '1', [LOG_FILE_ENV]: logFile },
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

function unlessOperatorSet(nodeFlags: string[]): string[] {
  const operator = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((flag) => flag.split('=')[0]);
  return nodeFlags.filter((flag) => !operator.includes(flag.split('=')[0]));
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

/**
 * In the background child: its stdout and stderr (log lines, the CLI's last error) go to its log
 * file through the process's one writer of it, rotated by size and reopened at SIGHUP, rather
 * than through the descriptor it inherited, which would follow the file wherever logrotate moves
 * it. Returns the log file's path; undefined in the foreground.
 */
export function detachedOutput(): string | undefined {
  const path = process.env[LOG_FILE_ENV];
  if (!isDetachedChild() || !path) return undefined;
  const file = openLogFile(path);
  for (const stream of [process.stdout, process.stderr]) {
    stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void) => {
      file.write(typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk);
      (typeof encoding === 'function' ? encoding : callback)?.(null);
      return true;
    }) as typeof stream.write;
  }
  return path;
}

/** Tells the waiting `start --detach` that this server serves; it then returns and we run on alone. */
export function reportReady(): void {
  // The waiting parent may be gone (interrupted): then there is nobody to tell.
  if (!isDetachedChild() || !process.connected) return;
  process.send!({ type: 'flotilla-ready', pid: process.pid } satisfies ReadyMessage);
  process.disconnect?.();
}
