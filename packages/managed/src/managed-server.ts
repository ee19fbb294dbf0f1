import { randomBytes } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import {
  API_PREFIX,
  FlotillaError,
  StorageError,
  GENERATION_CONFIG_FILE,
  IntegrityError,
  MasterUpEventSchema,
  PeerClient,
  ExitCode,
  KEY_PATH,
  KEY_REFRESH_PATH,
  ProtocolError,
  KeyRefreshAnswerSchema,
  NewKeySchema,
  PeerRefusedKeyError,
  PeerUnreachableError,
  keyRefreshAnswerGenuine,
  signKeyRefresh,
  SerialQueue,
  TerminalProgress,
  UnreachableError,
  UsageError,
  acquireServerLock,
  assertName,
  createLogger,
  createManagementServer,
  describeProgress,
  domainFiles,
  domainLayout,
  isWildcardAddress,
  listen,
  masterEndpoint,
  masterIdentity,
  metricsRoute,
  parseDomainConfig,
  parseMessage,
  MasterAddressSchema,
  readDomainKey,
  parseMasterOption,
  readKeyFileOption,
  reportReady,
  onStopSignals,
  reopenLogsOnHangup,
  serverLayout,
  setLogRotation,
  writeFileAtomic,
  type DomainConfig,
  type Logger,
  type ManagedStatus,
  type ProgressCounts,
  type MasterAddress,
  type MasterUpEvent,
  type Route,
  type ServerLayout,
  type StreamEvent,
  storageError,
} from '@flotilla/core';
import { Membership, heartbeatOptionsFor } from '@flotilla/heartbeat';
import { PeerRestarter } from './peer-restart.js';
import { CacheStore, type VerifiedGeneration } from './cache/cache-store.js';
import { LocalDomainSource, MasterSource, type ContentSource } from './cache/sources.js';
import { syncGeneration, type SyncResult } from './cache/sync.js';
import { AppManager } from './apps/app-manager.js';
import { logRoute } from './log-route.js';
import { createHttpFront } from './http-front.js';
import { MasterLink, followEvents, type LinkTurns } from './master-link.js';
import { ManagedMetrics, type SyncOutcome } from './metrics.js';
import { ServerState } from './mode.js';
import { MasterTrust } from './master-trust.js';
import { ServerCertificate } from './server-certificate.js';

export interface ManagedOptions {
  home: string;
  domain: string;
  server: string;
  /** `HOST:PORT` of the MASTER: needed the first time on a machine without the domain. */
  master?: string;
  /** A copy of the domain key: needed the first time on a machine without the domain. */
  keyFile?: string;
  /** Log to this file instead of stderr (detached server): rotated, reopened at SIGHUP, read by `master logs`. */
  logFile?: string;
}

/** A managed server: its cache, its mode, its link to the MASTER, and its ports. */
export class ManagedServer {
  private readonly state = new ServerState();
  private current!: VerifiedGeneration;
  private config!: DomainConfig;
  private client?: PeerClient;
  private management?: HttpsServer;
  private front?: Server;
  private readonly link = new MasterLink(this.linkTurns());
  private readonly syncing = new SerialQueue();
  private stopping?: Promise<void>;
  private readonly apps: AppManager;
  private readonly trust: MasterTrust;
  private readonly certificate: ServerCertificate;
  private membership?: Membership;
  /** The key held before a new one came during start, until the heartbeats are joined: the others may still sign with it. */
  private keyBeforeJoin?: Buffer;
  /** Restarts the node's failed servers while the MASTER is away. */
  private peerRestarts?: PeerRestarter;
  private readonly metrics = new ManagedMetrics({
    status: () => this.state.status,
    mode: () => this.state.mode,
    generation: () => this.current.generation,
    apps: () => this.apps.statuses(),
  });

  private constructor(
    private readonly domain: string,
    private readonly name: string,
    private readonly files: ServerLayout,
    private readonly cache: CacheStore,
    private key: Buffer,
    private master: MasterAddress,
    private readonly sharedDomainDir: string | undefined,
    private readonly log: Logger,
    /** Detached: its own log is a file that `master logs` can read. */
    private readonly logsToFile: boolean,
  ) {
    this.trust = new MasterTrust(cache, domain, () => this.key, sharedDomainDir && domainFiles(sharedDomainDir).caCertFile, log);
    this.certificate = new ServerCertificate(cache, domain, name, log);
    this.apps = new AppManager({
      domain,
      server: name,
      files,
      logger: log,
      onChange: () => void this.refreshStatus(),
    });
  }

  static async start(options: ManagedOptions): Promise<ManagedServer> {
    assertName('domain', options.domain);
    assertName('server', options.server);
    const layout = domainLayout(options.home, options.domain);
    const files = serverLayout(layout, options.server);
    const log = createLogger({ domain: options.domain, server: options.server, file: options.logFile });
    reopenLogsOnHangup((files) => log.info('SYS-0003', `SIGHUP: reopened ${files} log files`));
    const cache = new CacheStore(files.cacheDir, log);
    const shared = await stat(layout.configFile).then(() => true, () => false);
    const sharedConfig = shared ? await readLocalConfig(layout.configFile, options.domain) : undefined;

    // Known before anything is written: a mistyped name leaves no server directory behind.
    if (sharedConfig) assertServerDefined(sharedConfig, options.server);
    const given = options.master === undefined ? undefined : parseMasterOption(options.master);
    const key = await resolveKey(options, cache, shared ? layout.keyFile : undefined);
    const master = given ?? (await cache.readJson('master.json', MasterAddressSchema)) ?? (sharedConfig && masterEndpoint(sharedConfig));
    if (!master) {
      throw new UsageError(`no MASTER address for ${options.server}: pass --master HOST:PORT the first time it starts on this machine`);
    }
    log.info('MS-0001', `managed server ${options.server} of ${options.domain} is starting (pid ${process.pid})`);
    await acquireServerLock(files.pidFile, `server ${options.server} of ${options.domain}`);
    const server = new ManagedServer(options.domain, options.server, files, cache, key, master, shared ? layout.dir : undefined, log, options.logFile !== undefined);
    await server.run(options);
    return server;
  }

  private async run(options: ManagedOptions): Promise<void> {
    let cached: VerifiedGeneration | undefined;
    let corrupt: IntegrityError | undefined;
    try {
      cached = await this.cache.open(this.name);
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      corrupt = error; // the MASTER can still rebuild it; served from nowhere until then
    }

    let attached = false;
    try {
      this.current = (await this.withCurrentKey(async () => this.syncFrom(new MasterSource(await this.masterClient()), cached, true))).generation;
      attached = true;
      if (options.keyFile) await this.cache.writeFile('domain.key', `${this.key.toString('hex')}\n`, 0o600);
      await this.rememberMaster();
    } catch (error) {
      if (!(error instanceof FlotillaError)) throw error;
      const failedCheck = error.exitCode === ExitCode.integrity;
      // The MASTER's next generation does not fit on this disk: the cache as it was is intact, and served.
      const noRoom = error instanceof StorageError && cached !== undefined;
      if (noRoom) this.log.warn('MS-0054', `the MASTER's generation cannot be written to the cache, so ${this.name} starts INDEPENDENT from generation ${cached!.generation} as it was: ${error.message}`);
      if (!failedCheck && !noRoom && !(error instanceof PeerUnreachableError)) {
        // The MASTER answered, and said no (a wrong key, a server it does not know): say who said what.
        throw new FlotillaError(`cannot start ${this.name}: MASTER at ${this.masterWhere} answered: ${error.message}`, error.exitCode, { cause: error });
      }
      if (failedCheck) {
        // Not verified (an impostor, a changed byte, a manifest that breaks the rules): nothing it
        // said was used, and a server with a cache serves it, as when the MASTER is unreachable.
        this.log.warn('MS-0045', `the MASTER at ${this.masterWhere} failed verification: ${error.message}`);
        if (!cached && !this.sharedDomainDir) throw new IntegrityError(`cannot start ${this.name}: ${error.message}`, { cause: error });
      }
      this.log.warn('MS-0052', `Receiving the configuration failed. Attempting to start as INDEPENDENT. (${error.message})`);
      if (this.sharedDomainDir && !noRoom) {
        this.log.info('MS-0051', `MASTER at ${this.masterWhere} is unreachable; starting from the MASTER's own files in ${this.sharedDomainDir}`);
        this.current = (await this.syncFrom(new LocalDomainSource(this.sharedDomainDir, this.domain), cached, true)).generation;
      } else if (cached) {
        this.current = cached;
        this.log.info('MS-0053', `started from the local cache, generation ${cached.generation} (INDEPENDENT)`);
      } else if (corrupt) {
        throw corrupt;
      } else {
        throw new UnreachableError(`cannot start ${this.name}: MASTER at ${this.masterWhere} is unreachable and there is no local cache`);
      }
    }

    this.config = await readLocalConfig(join(this.current.root, GENERATION_CONFIG_FILE), this.domain);
    setLogRotation(this.config.logs);
    if (!this.config.servers[this.name]) {
      // Synchronised for nothing: a cache this start created is taken back.
      if (!cached && !corrupt) await rm(this.files.cacheDir, { recursive: true, force: true });
      assertServerDefined(this.config, this.name);
    }
    const settings = this.config.servers[this.name]!;
    const tls = await this.certificate.obtain(this.config, await this.trust.held(), attached ? this.client : undefined, this.sharedDomainDir ? domainFiles(this.sharedDomainDir) : undefined);
    this.management = createManagementServer({
      key: () => this.key,
      identity: this.certificate.identity,
      tls,
      routes: this.routes(),
      logger: this.log,
      unauthorizedCode: 'MS-0040',
    });
    await listen(this.management, settings.address, settings.port, `server ${this.name} (management)`);
    this.front = createHttpFront({
      health: () => ({ status: this.state.status, domain: this.domain, server: this.name, mode: this.state.mode, generation: this.current.generation, apps: this.apps.statuses() }),
      route: (path) => this.apps.route(path),
      observe: (app, status, seconds) => this.metrics.proxied(app, status, seconds),
    });
    await listen(this.front, settings.address, settings.http, `server ${this.name} (HTTP)`);

    await this.apps.cleanRuntime();
    await this.apps.apply(this.config, this.current);
    this.state.apply({ kind: 'serving', degraded: this.apps.degraded });
    await this.writeState();
    await this.joinHeartbeats(options.home);
    this.log.info('MS-0002', `${this.name} serves on ${settings.address}:${settings.http} (management ${settings.address}:${settings.port}), generation ${this.current.generation}`);
    onStopSignals(() => void this.stop().then(() => process.exit(0)));
    reportReady();
    void this.link.run();
  }

  /**
   * Syncs from `source`. With `showProgress` (the syncs at start), a long one shows its progress on
   * a terminal (docs/contract.md#commands), cleared before anything is logged; later syncs are only logged.
   */
  private async syncFrom(source: ContentSource, current: VerifiedGeneration | undefined, showProgress = false) {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    let result: SyncResult;
    try {
      const progress = showProgress ? TerminalProgress.forStderr() : undefined;
      const onProgress = (counts: ProgressCounts) => progress?.update(describeProgress(`Synchronising ${this.name}`, counts));
      result = await syncGeneration({ cache: this.cache, source, domain: this.domain, server: this.name, current, onProgress }).finally(() => progress?.done());
    } catch (error) {
      this.metrics.synced('failed', seconds());
      // A write into a file the sync holds open says no path: the cache directory is where it was.
      throw storageError(error, this.files.cacheDir) ?? error;
    }
    const outcome: SyncOutcome = result.unchanged ? 'unchanged' : 'changed';
    this.metrics.synced(outcome, seconds(), { files: result.fetchedFiles, bytes: result.fetchedBytes });
    if (result.unchanged) this.log.info('MS-0011', `cache already at generation ${result.generation.generation} of ${source.description}`);
    else this.log.info('MS-0010', `cache synchronised to generation ${result.generation.generation} from ${source.description}: ${result.fetchedFiles} files, ${result.fetchedBytes} bytes moved`);
    return result;
  }

  /** Syncs the MASTER's current generation into the cache; syncs never overlap. */
  private syncWithMaster(): Promise<void> {
    const run = async () => {
      // Coming back from INDEPENDENT: what the sync brings was changed while the server was away.
      const reattaching = this.state.mode === 'INDEPENDENT';
      const result = await this.withCurrentKey(async () => this.syncFrom(new MasterSource(await this.masterClient()), this.current));
      if (!result.unchanged) {
        this.current = result.generation;
        this.config = result.config;
        setLogRotation(this.config.logs);
        await this.writeState();
        if (reattaching && !this.config.reattach.applyApplications) {
          this.log.info('MS-0034', `generation ${this.current.generation} is in the cache; the applications keep running as they are (reattach.applyApplications is false) until the server restarts or a change reaches it while managed`);
          return;
        }
        // What changed while it was away, or just now: new applications start, changed ones are
        // replaced without a failed request, removed ones stop.
        await this.apps.apply(this.config, this.current);
      }
    };
    return this.syncing.run(run);
  }

  /** How this server's link to the MASTER (master-link.ts) follows, fails and is lost. */
  private linkTurns(): LinkTurns {
    return {
      follow: (opened) =>
        this.withCurrentKey(async () =>
          followEvents(
            await this.masterClient(),
            this.name,
            async (hello) => {
              // The stream's first event says the MASTER's generation: a sync only if it is not ours.
              if (hello.digest !== this.current.sourceDigest) await this.syncWithMaster();
              opened();
              if (this.state.apply({ kind: 'attached' })) this.log.info('MS-0030', `attached to the MASTER at ${this.masterWhere}: MANAGED, generation ${this.current.generation}`);
              void this.writeState();
              void this.report();
              void this.renewCertificate();
            },
            (event) => this.onStreamEvent(event),
          ),
        ),
      failed: (error) => {
        if (!(error instanceof PeerUnreachableError)) {
          this.log.warn('MS-0060', `could not synchronise with the MASTER at ${this.masterWhere}: ${(error as Error).message}`);
        }
      },
      lost: async () => {
        if (this.state.apply({ kind: 'detached' })) {
          this.log.warn('MS-0031', `lost the MASTER at ${this.masterWhere}: INDEPENDENT, serving generation ${this.current.generation} from the cache`);
          await this.writeState();
        }
      },
    };
  }

  /** A failed sync is rejected: followEvents then ends the stream, and the re-attach retries it. */
  private onStreamEvent(event: StreamEvent): Promise<void> | undefined {
    if (event.type !== 'generation' || event.digest === this.current.sourceDigest) return undefined;
    return this.syncWithMaster()
      .catch((error: Error) => {
        this.log.warn('MS-0060', `could not synchronise generation ${event.generation}: ${error.message}`);
        throw error;
      })
      .then(() => this.report());
  }

  private get masterWhere(): string {
    return `${this.master.address}:${this.master.port}`;
  }

  /** The client for the MASTER, made once its CA is known (learned at a verified first contact if need be). */
  private async masterClient(): Promise<PeerClient> {
    if (!this.client) {
      const ca = await this.trust.ca(this.master);
      this.client ??= new PeerClient(this.master, { key: this.key, sender: this.name, trust: { ca, identity: masterIdentity(this.domain) } });
    }
    return this.client;
  }

  /**
   * Runs `work` with the MASTER; a MASTER that refuses our key may have rotated it while this
   * server was away, so the server asks for the new one once (key-messages.ts) and runs it again.
   */
  private async withCurrentKey<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof PeerRefusedKeyError)) throw error;
      let refreshed: boolean;
      try {
        refreshed = await this.refreshKey();
      } catch (refusal) {
        // The first refusal says why (a stale clock, say); the refresh's only that it did not help.
        throw new PeerRefusedKeyError(`${error.message}; asking the MASTER for a rotated key did not help: ${(refusal as Error).message}`, { cause: refusal });
      }
      if (!refreshed) throw error;
      return work();
    }
  }

  /** Proves this server with its certificate's key and takes the key the MASTER answers; false without a certificate. */
  private async refreshKey(): Promise<boolean> {
    const held = await this.certificate.held();
    if (!held) return false;
    const client = await this.masterClient();
    const proof = { server: this.name, certificate: held.cert, time: Date.now(), nonce: randomBytes(16).toString('hex') };
    const body = { ...proof, signature: signKeyRefresh(this.domain, proof, held.key) };
    const answer = parseMessage(KeyRefreshAnswerSchema, await client.request('POST', KEY_REFRESH_PATH, { body, unsigned: true }), `the new key from the MASTER at ${client.where}`, this.log);
    if (!keyRefreshAnswerGenuine(this.key, this.domain, proof.nonce, answer)) {
      throw new ProtocolError(`the MASTER at ${client.where} answered the key refresh without a proof made with ${this.name}'s current key: not taken`);
    }
    await this.takeKey(Buffer.from(answer.key, 'hex'), `from the MASTER at ${client.where}, which rotated it while ${this.name} was away`, 'missed');
    return true;
  }

  /**
   * A new domain key: kept in the cache (0600), then used for everything, heartbeats included: one
   * `rotating` now (master rotate-key) is signed with once the others have it too; one `missed`
   * while away (a key refresh) at once (key-ring.ts in the heartbeat package).
   */
  private async takeKey(next: Buffer, from: string, how: 'rotating' | 'missed'): Promise<void> {
    await this.cache.writeFile('domain.key', `${next.toString('hex')}\n`, 0o600);
    if (!this.membership) this.keyBeforeJoin = this.key;
    this.key = next;
    this.client?.close();
    this.client = undefined;
    if (how === 'rotating') this.membership?.rekey(next);
    else this.membership?.caughtUp(next);
    this.log.info('MS-0046', `took a new domain key ${from}`);
  }

  /** At every attach: a certificate near its end, or for other names, is replaced without a restart. */
  private async renewCertificate(): Promise<void> {
    try {
      const ca = await this.trust.held();
      const renewed = ca && this.client && (await this.certificate.renewIfNeeded(this.config, ca, this.client));
      if (renewed) this.management?.setSecureContext(renewed);
    } catch (error) {
      this.log.warn('MS-0044', `could not renew the certificate through the MASTER at ${this.masterWhere}: ${(error as Error).message}`);
    }
  }

  private async rememberMaster(): Promise<void> {
    await this.cache.writeFile('master.json', `${JSON.stringify(this.master)}\n`);
  }

  /** A master-up event: the MASTER is back, perhaps at a new address, which is remembered. */
  private async onMasterUp(event: MasterUpEvent, from: string | undefined): Promise<void> {
    if (event.domain !== this.domain) throw new UsageError(`this is server ${this.name} of ${this.domain}, not of ${event.domain}`);
    // A MASTER listening on every interface is reached at the address it called from.
    const address = isWildcardAddress(event.master.address) && from ? from.replace(/^::ffff:/, '') : event.master.address;
    const announced = { address, port: event.master.port };
    this.log.info('MS-0032', `the MASTER announced itself at ${announced.address}:${announced.port}, generation ${event.generation}`);
    if (announced.address !== this.master.address || announced.port !== this.master.port) {
      this.master = announced;
      this.client?.close();
      this.client = undefined;
      await this.rememberMaster();
      this.log.info('MS-0033', `MASTER address is now ${announced.address}:${announced.port}; remembered`);
    }
    if (!this.state.attached) this.link.retryNow();
  }

  status(): ManagedStatus {
    const settings = this.config.servers[this.name]!;
    return {
      domain: this.domain,
      server: this.name,
      status: this.state.status,
      statusSince: this.state.statusSince,
      pid: process.pid,
      mode: this.state.mode,
      ...(this.state.reason ? { reason: this.state.reason } : {}),
      since: this.state.modeSince,
      generation: this.current.generation,
      master: { ...this.master, connected: this.state.attached },
      address: settings.address,
      port: settings.port,
      http: settings.http,
      node: settings.node,
      apps: this.apps.statuses(),
    };
  }

  /**
   * Joins the domain's heartbeat group so that peers and the MASTER see this server alive, and see
   * it fail. A heartbeat problem does not stop the server from serving: it is logged.
   */
  private async joinHeartbeats(home: string): Promise<void> {
    try {
      const options = await heartbeatOptionsFor(this.config, this.name);
      this.membership = await Membership.start({
        domain: this.domain,
        self: options.self,
        key: this.key,
        ...(this.keyBeforeJoin ? { rotatedFrom: this.keyBeforeJoin } : {}),
        transport: options.transport,
        config: this.config.heartbeat.timings,
        logger: { warn: (message) => this.log.warn('MS-0081', message) },
      });
      this.metrics.heartbeat.watch(this.membership);
      this.peerRestarts = new PeerRestarter({
        domain: this.domain,
        self: this.name,
        home,
        config: () => this.config,
        membership: this.membership,
        masterReachable: () => this.state.attached,
        log: this.log,
      });
      this.log.info('MS-0080', `joined the heartbeat group (${this.config.heartbeat.mode})`);
    } catch (error) {
      this.log.warn('MS-0081', `cannot join the heartbeat group: ${(error as Error).message}; peers will not see this server`);
    }
  }

  /** RUNNING while every application runs, STANDBY while one has failed (docs/contract.md#applications). */
  private async refreshStatus(): Promise<void> {
    if (!this.state.apply({ kind: 'apps-changed', degraded: this.apps.degraded })) return;
    this.log.warn('MS-0074', `${this.name} is ${this.state.status}${this.state.status === 'STANDBY' ? ': an application failed to start' : ''}`);
    await this.writeState();
    if (this.state.attached) await this.report();
  }

  private async report(): Promise<void> {
    try {
      const peerRestarts = this.peerRestarts?.toTell() ?? [];
      const status = { ...this.status(), ...(peerRestarts.length && { peerRestarts }) };
      await (await this.masterClient()).request('POST', `${API_PREFIX}/servers/${this.name}/report`, { body: status });
      this.peerRestarts?.told(peerRestarts);
    } catch {
      // The MASTER learns our state at the next attach; a lost report changes nothing here.
    }
  }

  private async writeState(): Promise<void> {
    await writeFileAtomic(this.files.stateFile, `${JSON.stringify(this.status())}\n`);
  }

  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.link.stop();
      this.peerRestarts?.stop();
      this.log.info('MS-0003', `${this.name} is stopping`);
      this.state.apply({ kind: 'stopping' });
      // Announced first: peers and the MASTER mark it SHUTDOWN at once, never FAILED.
      await this.membership?.leave().catch(() => {});
      if (this.state.attached) await this.report();
      const close = (server: Server | undefined) =>
        new Promise<void>((resolve) => {
          if (!server) return resolve();
          server.close(() => resolve());
          server.closeIdleConnections();
        });
      // Stop taking requests, let those in flight finish (bounded by the drain), then the apps.
      await close(this.front);
      await this.apps.stopAll();
      this.front?.closeAllConnections();
      this.management?.closeAllConnections();
      await close(this.management);
      this.client?.close();
      this.state.apply({ kind: 'stopped' });
      await this.writeState();
      this.log.info('MS-0004', `${this.name} stopped`);
    })();
    return this.stopping;
  }

  private routes(): Route[] {
    return [
      { method: 'GET', path: `${API_PREFIX}/status`, handle: () => this.status() },
      metricsRoute({ key: () => this.key, registry: this.metrics.registry, logger: this.log, refusedCode: 'MS-0041' }),
      logRoute({ server: this.name, files: this.files, config: () => this.config, logsToFile: this.logsToFile, log: this.log }),
      {
        method: 'POST',
        path: `${API_PREFIX}/events`,
        handle: async ({ body, request, sender }) => {
          const event = parseMessage(MasterUpEventSchema, body, `an event from ${sender} at ${request.socket.remoteAddress}`, this.log);
          await this.onMasterUp(event, request.socket.remoteAddress);
          return { server: this.name, accepted: true };
        },
      },
      {
        method: 'POST',
        path: KEY_PATH,
        handle: async ({ body, sender }) => {
          if (sender !== this.config.master.name) throw new UsageError(`only the MASTER hands out a new key, not ${sender}`);
          const { key } = parseMessage(NewKeySchema, body, `a new key from ${sender}`, this.log);
          await this.takeKey(Buffer.from(key, 'hex'), `from ${sender} (master rotate-key)`, 'rotating');
          return { server: this.name, accepted: true };
        },
      },
      {
        method: 'POST',
        path: `${API_PREFIX}/stop`,
        handle: () => {
          setImmediate(() => void this.stop().then(() => process.exit(0)));
          return { stopping: true, pid: process.pid };
        },
      },
    ];
  }
}

function assertServerDefined(config: DomainConfig, server: string): void {
  if (config.servers[server]) return;
  throw new UsageError(`server ${server} is not defined in domain ${config.name} (servers: ${Object.keys(config.servers).join(', ') || 'none'})`);
}

async function readLocalConfig(file: string, domain: string): Promise<DomainConfig> {
  return parseDomainConfig(await readFile(file, 'utf8'), { file, expectedName: domain });
}

/** --key-file, else the copy kept in the cache, else the domain's own key on the MASTER's machine. */
async function resolveKey(options: ManagedOptions, cache: CacheStore, sharedKeyFile: string | undefined): Promise<Buffer> {
  if (options.keyFile) return readKeyFileOption(options.keyFile);
  const cached = cache.path('domain.key');
  if (await stat(cached).then(() => true, () => false)) return readDomainKey(cached);
  if (sharedKeyFile) return readDomainKey(sharedKeyFile);
  throw new UsageError(
    `no domain key for ${options.server}: pass --key-file with a copy of the MASTER's config/security/domain.key the first time it starts on this machine`,
  );
}
