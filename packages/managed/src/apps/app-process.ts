import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { TimestampedLines, applicationEntry, type AppStatus, type AppStream, type LogFile, type Logger } from '@flotilla/core';
import { Upstream } from './upstream.js';
import { MAX_UNSTABLE, MIN_UPTIME_MS, READINESS_POLL_MS, START_TIMEOUT_MS, STOP_GRACE_MS, restartDelay } from './restart-policy.js';

export interface AppSpec {
  name: string;
  context: string;
  /** Digest of the application's files: a new digest is a new version. */
  version: string;
  /** Where this version's files are, for as long as it runs. */
  dir: string;
  env: Record<string, string>;
  /** Where the application's stdout and stderr go, each line timestamped (docs/operations.md, "Logs"). */
  logs: Record<AppStream, LogFile>;
}

/** Ends the application when this server's process is gone (see the file). */
const PARENT_WATCH = fileURLToPath(new URL('../../runtime/parent-watch.cjs', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = request({ host: '127.0.0.1', port, path: '/', method: 'GET', agent: false, timeout: 1_000 }, (response) => {
      response.resume();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
    probe.on('timeout', () => probe.destroy());
    probe.end();
  });
}

/** One output stream of one run of the application; its last partial line is written when it ends. */
function logLines(output: Readable, file: LogFile): void {
  const lines = new TimestampedLines(file);
  output.on('data', (chunk: Buffer) => lines.write(chunk));
  output.on('end', () => lines.flush());
}

/**
 * One version of an application, run as a child process on its own port and kept alive by the
 * restart policy. The proxy sends requests to `port` through `upstream`, counting them in `inFlight`
 * so that a replaced version can drain before it stops.
 */
export class AppProcess {
  state: AppStatus['status'] = 'STARTING';
  restarts = 0;
  port = 0;
  inFlight = 0;
  private pool?: Upstream;
  private child?: ChildProcess;
  private unstable = 0;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private readyWaiters: Array<(ok: boolean) => void> = [];

  /**
   * Kept-alive connections to the process on its current port (a restart moves it to another; the
   * old process's connections go with it). No timeouts: long polls and slow streams are the
   * application's business, as its own port would allow.
   */
  get upstream(): Upstream {
    if (this.pool?.port !== this.port) {
      this.pool?.destroy();
      this.pool = new Upstream(this.port);
    }
    return this.pool;
  }

  constructor(
    readonly spec: AppSpec,
    private readonly logger: Logger,
    /** Told whenever `state` changes: the server's own status depends on it. */
    private readonly onChange: () => void,
  ) {}

  private setState(state: AppStatus['status']): void {
    if (this.state === state) return;
    this.state = state;
    this.onChange();
  }

  status(): AppStatus {
    return { name: this.spec.name, context: this.spec.context, status: this.state, restarts: this.restarts };
  }

  /** Starts the application; resolves true once it answers, false once it has FAILED for good. */
  start(): Promise<boolean> {
    const ready = new Promise<boolean>((resolve) => this.readyWaiters.push(resolve));
    void this.launch();
    return ready;
  }

  private settle(ok: boolean): void {
    for (const waiter of this.readyWaiters.splice(0)) waiter(ok);
  }

  private async launch(): Promise<void> {
    if (this.stopped) return;
    let entry: string | undefined;
    try {
      entry = await applicationEntry(this.spec.dir, `application ${this.spec.name}`);
    } catch (error) {
      this.fail((error as Error).message); // an entry outside the application is never run
      return;
    }
    if (!entry) {
      this.fail(`application ${this.spec.name} has no entry point: package.json "main" or index.js`);
      return;
    }
    this.port = await freePort();
    this.setState('STARTING');
    const startedAt = Date.now();
    const child = spawn(process.execPath, ['--require', PARENT_WATCH, entry], {
      cwd: this.spec.dir,
      env: { ...process.env, ...this.spec.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    logLines(child.stdout!, this.spec.logs.stdout);
    logLines(child.stderr!, this.spec.logs.stderr);
    child.once('exit', (code, signal) => this.onExit(child, startedAt, code, signal));

    const deadline = startedAt + START_TIMEOUT_MS;
    while (this.child === child && child.exitCode === null && !this.stopped) {
      if (await answers(this.port)) {
        this.setState('RUNNING');
        this.logger.info('MS-0070', `application ${this.spec.name} runs (pid ${child.pid}, port ${this.port})`);
        this.settle(true);
        return;
      }
      if (Date.now() > deadline) {
        this.logger.warn('MS-0071', `application ${this.spec.name} did not answer on its port within ${START_TIMEOUT_MS / 1000} s; restarting it`);
        child.kill('SIGKILL');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, READINESS_POLL_MS));
    }
  }

  private onExit(child: ChildProcess, startedAt: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child || this.stopped) return;
    const uptime = Date.now() - startedAt;
    this.unstable = uptime < MIN_UPTIME_MS ? this.unstable + 1 : 0;
    if (this.unstable >= MAX_UNSTABLE) {
      this.fail(`application ${this.spec.name} exited ${MAX_UNSTABLE} times within ${MIN_UPTIME_MS} ms of starting (last: ${signal ?? `code ${code}`}); not restarted again`);
      return;
    }
    this.restarts += 1;
    this.setState('STARTING');
    const delay = restartDelay(this.unstable);
    this.logger.warn('MS-0071', `application ${this.spec.name} exited (${signal ?? `code ${code}`}) after ${uptime} ms; restart ${this.restarts} in ${delay} ms`);
    this.retry = setTimeout(() => void this.launch(), delay);
  }

  private fail(reason: string): void {
    this.setState('FAILED');
    this.logger.error('MS-0072', reason);
    this.settle(false);
  }

  /** Stops this version: SIGTERM, then SIGKILL after the grace period. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.settle(false);
    const child = this.child;
    this.pool?.destroy();
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    this.state = 'STOPPED'; // a retired version: no longer part of the server's status
  }
}
