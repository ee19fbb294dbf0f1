import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_STREAMS, SerialQueue, appLogFile, applicationsOf, openLogFile, type AppStatus, type DomainConfig, type Logger, type ServerLayout } from '@flotilla/core';
import type { VerifiedGeneration } from '../cache/cache-store.js';
import { applicationVersion, copyApplication } from '../cache/app-copy.js';
import { AppProcess, type AppSpec } from './app-process.js';
import { DRAIN_TIMEOUT_MS } from './restart-policy.js';

const SLASH = '/'.charCodeAt(0);

export interface Route {
  name: string;
  /** The context as the application does not see it: '' for the context `/`. */
  prefix: string;
  /** The version that serves now; none while the application has no ready instance. */
  app?: AppProcess;
}

export interface AppManagerOptions {
  domain: string;
  server: string;
  /** The server's files: `apps/` holds each running version's own copy of its files, `logs/` their output. */
  files: ServerLayout;
  logger: Logger;
  /** Called when an application's state changes. */
  onChange: () => void;
}

/**
 * Runs the applications that target this server, as the current generation says: new ones are
 * started, changed ones replaced without a failed request (start the new version, switch when it
 * answers, drain the old one), removed ones drained and stopped.
 */
export class AppManager {
  /** Each application's version that serves now; replaced versions drain on their own. */
  private readonly slots = new Map<string, AppProcess>();
  private readonly applying = new SerialQueue();
  /** Each application this server should run, by name: its context, known before it first answers. */
  private contexts = new Map<string, string>();

  constructor(private readonly options: AppManagerOptions) {}

  private get runtimeDir(): string {
    return join(this.options.files.dir, 'apps');
  }

  /**
   * The application whose context is the longest prefix of `path` (a normalised path, no query),
   * with the version that serves it now: none while it has no ready instance (starting,
   * restarting, FAILED), so that its context answers 503 rather than 404.
   */
  route(path: string): Route | undefined {
    let best: Route | undefined;
    for (const [name, context] of this.contexts) {
      const prefix = context === '/' ? '' : context;
      // The context itself or a path below it (`/hello/x`), never a longer name (`/helloworld`);
      // compared in place, as this runs for every context on every request.
      const matches = path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === SLASH);
      if (matches && (!best || prefix.length > best.prefix.length)) {
        const app = this.slots.get(name);
        best = { name, prefix, app: app?.state === 'RUNNING' ? app : undefined };
      }
    }
    return best;
  }

  statuses(): AppStatus[] {
    return [...this.slots.values()].map((app) => app.status()).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** True when an application this server should run has FAILED: the server is STANDBY. */
  get degraded(): boolean {
    return [...this.slots.values()].some((app) => app.state === 'FAILED');
  }

  /** Brings the running applications to what `generation` says; calls never overlap. */
  apply(config: DomainConfig, generation: VerifiedGeneration): Promise<void> {
    return this.applying.run(() => this.reconcile(config, generation));
  }

  private async reconcile(config: DomainConfig, generation: VerifiedGeneration): Promise<void> {
    const wanted = new Set(applicationsOf(config, this.options.server));
    this.contexts = new Map([...wanted].map((name) => [name, config.applications[name]!.context]));
    for (const [name, app] of this.slots) {
      if (!wanted.has(name)) {
        this.slots.delete(name);
        this.options.logger.info('MS-0073', `application ${name} is no longer deployed here; draining and stopping it`);
        void this.retire(app);
      }
    }
    await Promise.all(
      [...wanted].map(async (name) => {
        const version = applicationVersion(generation, name);
        const context = config.applications[name]!.context;
        const running = this.slots.get(name);
        if (running && running.spec.version === version && running.spec.context === context) return;
        const next = await this.prepare(name, context, version, generation);
        const ok = await next.start();
        const latest = this.slots.get(name);
        if (!ok && latest?.state === 'RUNNING') {
          // The new version cannot start: the old one keeps serving.
          this.options.logger.error('MS-0072', `application ${name}: the new version failed to start; the previous version keeps serving`);
          await this.retire(next);
          return;
        }
        this.slots.set(name, next);
        if (latest) {
          this.options.logger.info('MS-0073', `application ${name}: switched to version ${version}; draining the previous one`);
          void this.retire(latest);
        }
      }),
    );
  }

  /** A version's own copy of its files (hard links), so later generations never pull them away. */
  private async prepare(name: string, context: string, version: string, generation: VerifiedGeneration): Promise<AppProcess> {
    const dir = join(this.runtimeDir, `${name}-${version}-${process.pid}-${Date.now()}`);
    await rm(dir, { recursive: true, force: true });
    await copyApplication(generation, name, dir);
    return new AppProcess(
      {
        name,
        context,
        version,
        dir,
        env: { FLOTILLA_APP: name, FLOTILLA_SERVER: this.options.server, FLOTILLA_DOMAIN: this.options.domain },
        // Every version of an application writes the same two files, through one writer each.
        logs: Object.fromEntries(APP_STREAMS.map((stream) => [stream, openLogFile(appLogFile(this.options.files, name, stream))])) as AppSpec['logs'],
      },
      this.options.logger,
      this.options.onChange,
    );
  }

  /** Waits for in-flight requests (bounded), stops the version, removes its files. */
  private async retire(app: AppProcess): Promise<void> {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (app.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await app.stop();
    await rm(app.spec.dir, { recursive: true, force: true });
  }

  async stopAll(): Promise<void> {
    const running = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(running.map((app) => this.retire(app)));
  }

  /** Leftover version directories of processes that are gone (a SIGKILLed server). */
  async cleanRuntime(): Promise<void> {
    await rm(this.runtimeDir, { recursive: true, force: true });
    await mkdir(this.runtimeDir, { recursive: true });
  }
}
