/**
 * What every test needs to exercise the real thing: the built binaries run as child processes,
 * temporary homes, and processes that are always ended, by PID, even when a test fails.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options, type ResultPromise } from 'execa';
import { afterAll, afterEach } from 'vitest';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export type Binary = 'master' | 'managed' | 'pack-domain' | 'unpack-domain' | 'set-domain-backup' | 'heartbeat';

/** The package that ships each binary. */
const packageOf: Record<Binary, string> = {
  master: 'master',
  managed: 'managed',
  'pack-domain': 'pack-domain',
  'unpack-domain': 'unpack-domain',
  'set-domain-backup': 'master',
  heartbeat: 'heartbeat',
};

export function binaryPath(binary: Binary): string {
  return join(repoRoot, 'packages', packageOf[binary], 'bin', `${binary}.js`);
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a binary to completion; never throws on a non-zero exit, so tests assert the code. */
export async function run(binary: Binary, args: string[], options: Options = {}): Promise<RunResult> {
  const result = await execa(process.execPath, [binaryPath(binary), ...args], {
    reject: false,
    stdin: 'ignore',
    timeout: 60_000,
    ...options,
    env: { FLOTILLA_HOME: '', ...options.env },
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const started = new Set<ResultPromise>();

/** Starts a long-running binary; it is SIGKILLed after the test if still alive. */
export function start(binary: Binary, args: string[], options: Options = {}): ResultPromise {
  const child = execa(process.execPath, [binaryPath(binary), ...args], {
    reject: false,
    stdin: 'ignore',
    ...options,
    env: { FLOTILLA_HOME: '', ...options.env },
  });
  started.add(child);
  void child.finally(() => started.delete(child));
  return child;
}

/** Ends a PID (ours or a detached grandchild) without failing if it is already gone. */
export function killPid(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

type Cleanup = () => Promise<void> | void;
const testCleanups: Cleanup[] = [];
const fileCleanups: Cleanup[] = [];

/** When to undo: after the current test, or after the whole test file (for `beforeAll` set-up). */
export type CleanupScope = 'test' | 'file';

/** Registers work to undo, pass or fail. */
export function onCleanup(cleanup: Cleanup, scope: CleanupScope = 'test'): void {
  (scope === 'test' ? testCleanups : fileCleanups).push(cleanup);
}

async function runCleanups(list: Cleanup[]): Promise<void> {
  while (list.length) await list.pop()!();
}

afterEach(async () => {
  for (const child of started) killPid(child.pid);
  started.clear();
  await runCleanups(testCleanups);
});

afterAll(() => runCleanups(fileCleanups));

/**
 * Servers a test did not start itself (the MASTER restarts FAILED servers detached) are ended by
 * the PIDs in their pid files before their home is removed.
 */
async function killServersOf(home: string): Promise<void> {
  const domains = await readdir(join(home, 'domains')).catch(() => [] as string[]);
  for (const domain of domains) {
    const servers = await readdir(join(home, 'domains', domain, 'servers')).catch(() => [] as string[]);
    for (const server of servers) {
      const pid = Number((await readFile(join(home, 'domains', domain, 'servers', server, 'server.pid'), 'utf8').catch(() => '')).trim());
      if (pid > 0) killPid(pid);
    }
  }
}

/** A fresh home directory, removed after the test (or after the file, with scope 'file'). */
export async function tempHome(scope: CleanupScope = 'test'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-test-'));
  onCleanup(async () => {
    await killServersOf(dir);
    await rm(dir, { recursive: true, force: true });
  }, scope);
  return dir;
}

/** Polls until `check` returns a truthy value; fails with `what` after the deadline. */
type Falsy = undefined | null | false | 0 | '';

export async function waitFor<T>(what: string, check: () => Promise<T | Falsy> | T | Falsy, timeoutMs = 20_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as T;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
