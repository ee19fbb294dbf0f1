import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import {
  API_PREFIX,
  resolveTimings,
  ExitCode,
  sendJson,
  BACKUP_DOWNLOAD_PATH,
  CERTIFICATE_PATH,
  CONFIG_HISTORY_PATH,
  CONFIG_ROLLBACK_PATH,
  RollbackRequestSchema,
  type RollbackResult,
  CertificateRequestSchema,
  KEY_PATH,
  KEY_REFRESH_PATH,
  KeyRefreshSchema,
  LOGS_PATH,
  LogRequestSchema,
  sendJsonLines,
  tailLogFiles,
  DEFAULT_LOG_LINES,
  ROTATE_KEY_PATH,
  newDomainKey,
  type KeyRotationResult,
  HANDLED,
  MAX_CONTENT_REQUEST_BODY,
  DEPLOY_UPLOAD_PATH,
  MAX_UPLOAD_BYTES,
  ManagedStatusSchema,
  MasterConfigChangeSchema,
  PeerClient,
  TRUST_NONCE,
  TRUST_PATH,
  UsageError,
  acquireServerLock,
  createLogger,
  createManagementServer,
  forEachConcurrent,
  listen,
  masterIdentity,
  metricsRoute,
  openDomain,
  parseMessage,
  readDomainKey,
  ServerOperationRequestSchema,
  SerialQueue,
  STREAM_PING_MS,
  reportReady,
  onStopSignals,
  reopenLogsOnHangup,
  serverEndpoint,
  setLogRotation,
  serverIdentity,
  serverLayout,
  trustProof,
  writeFileAtomic,
  type BackupResult,
  type DomainConfig,
  type DomainLayout,
  type Logger,
  type Route,
  type MasterConfigChange,
  type MasterConfigChangeResult,
  type MasterUpEvent,
  type StatusTable,
  type StreamEvent,
} from '@flotilla/core';
import { backupResult } from '@flotilla/pack-domain';
import { runBootBackup } from './backup/boot-backup.js';
import { bootRecordFile } from './backup/boot-record.js';
import { LastBackup } from './backup/last-backup.js';
import { FrozenGeneration } from './backup/frozen-generation.js';
import { backupMessages } from './backup/messages.js';
import { requestedTarget } from './backup/requested-backup.js';
import { clearSnapshots } from './backup/snapshot.js';
import { changeConfig } from './config-changes.js';
import { configHistory, rollbackConfig } from './config-history.js';
import { requestedContent, sendContent } from './content-stream.js';
import { consoleLog } from './console/console-log.js';
import type { LogSource } from './console/log-lines.js';
import { WebConsole } from './console/web-console.js';
import { FailureWatch } from './failure-watch.js';
import { Restarter } from './restarter.js';
import { ServerOperations } from './server-operations.js';
import { clearUploads, receiveUpload } from './deploy-upload.js';
import { deployChange } from '../deploy/deploy-change.js';
import { checkStaged, clearRetired, discardStaged, installApplication, removeApplication, removeRetired, touchedBy } from './deployments.js';
import { GenerationStore } from './generation-store.js';
import { MasterMetrics } from './metrics.js';
import { ServerRegistry } from './registry.js';
import { policyView } from '../set-domain-backup/show-policy.js';
import { issueServerCertificate } from './certificates.js';
import { masterTls, type MasterTls } from './tls-identity.js';
import { KeyRotation } from './key-rotation.js';
import { serverLogLines } from './server-logs.js';

/** A master-up event that cannot be delivered this fast is left to the MS's own retries. */
const MASTER_UP_TIMEOUT_MS = 2_000;
/**
 * master-up events in flight at once: each server told connects back at once (its event stream, its
 * report), so a domain of 512 comes back in waves the MASTER keeps up with, not in one herd.
 */
const MASTER_UP_IN_FLIGHT = 64;
/** A key refresh is a certificate and a signature: a few kilobytes. */
const MAX_KEY_REFRESH_BODY = 32 * 1024;

export interface MasterOptions {
  home: string;
  domain: string;
  /** Log to this file instead of stderr (detached MASTER). */
  logFile?: string;
}

/** The running MASTER of one domain. */
/** How MA-0056 says what a server did to a FAILED peer while the MASTER was away. */
const PEER_RESTART_OUTCOMES = { restarted: 'restarted', failed: 'failed to restart', 'gave-up': 'gave up restarting' } as const;

export class MasterServer {
  private readonly registry = new ServerRegistry();
  private readonly failures: FailureWatch;
  /** Start, stop and restart servers on their nodes: for `master start-server` and the web console. */
  readonly serverOperations: ServerOperations;
  private readonly store: GenerationStore;
  private readonly lastBackup: LastBackup;
  private readonly metrics: MasterMetrics;
  private readonly webConsole: WebConsole;
  private http?: Server;
  private tls!: MasterTls;
  private readonly keyRotation: KeyRotation;
  /** The MASTER's logger, whose lines the console shows among its events (console-log.ts). */
  private readonly log: Logger;
  private pinger?: NodeJS.Timeout;
  private readonly startedAt = new Date().toISOString();
  private readonly changes = new SerialQueue();
  private stopping?: Promise<void>;

  private constructor(
    private readonly layout: DomainLayout,
    private config: DomainConfig,
    private key: Buffer,
    logger: Logger,
    /** Detached: the MASTER's own log is a file that `master logs` can read. */
    private readonly logsToFile: boolean,
  ) {
    const log = consoleLog(logger, (line) => this.webConsole?.logged(line));
    this.log = log;
    this.store = new GenerationStore(layout);
    const current = () => this.config;
    const restarter = new Restarter(layout.home, current, log);
    this.failures = new FailureWatch(layout.name, key, current, this.registry, restarter, log);
    this.serverOperations = new ServerOperations({ config: current, registry: this.registry, restarter, failures: this.failures, clientFor: (server) => this.clientFor(server), log });
    this.lastBackup = new LastBackup(bootRecordFile(layout, config.master.name));
    this.metrics = new MasterMetrics({ statusTable: () => this.statusTable(), backupTimes: () => this.lastBackup.times() });
    this.keyRotation = new KeyRotation(layout, log);
    this.webConsole = new WebConsole({
      domain: layout.name,
      key: () => this.key,
      log,
      source: {
        statusTable: () => this.statusTable(),
        appsOf: (server) => this.registry.appsOf(server),
        members: () => this.failures.membership?.members(),
        backups: async () => ({ ...(await policyView({ layout: this.layout, config: this.config })), lastRequested: this.lastBackup.lastRequested ?? null }),
        layout: () => ({
          nodes: Object.keys(this.config.nodes),
          clusters: Object.entries(this.config.clusters).map(([name, cluster]) => ({ name, servers: cluster.servers })),
          applications: Object.entries(this.config.applications).map(([name, app]) => ({ name, context: app.context, targets: app.targets })),
        }),
      },
      changes: {
        layout,
        config: current,
        apply: (change) => this.applyChange(change),
        serverOperation: (request) => this.serverOperations.run(request),
      },
      logLines: (source, signal) => this.consoleLogLines(source, signal),
      eventsFile: join(serverLayout(layout, config.master.name).dir, 'console-events.json'),
    });
    this.registry.on('status', (change) => this.webConsole.statusChanged(change));
    this.registry.on('change', () => this.webConsole.changed());
  }

  static async start(options: MasterOptions): Promise<MasterServer> {
    const { layout, config } = await openDomain(options.home, options.domain);
    const key = await readDomainKey(layout.keyFile);
    const log = createLogger({ domain: options.domain, server: config.master.name, file: options.logFile });
    reopenLogsOnHangup((files) => log.info('SYS-0003', `SIGHUP: reopened ${files} log files`));
    setLogRotation(config.logs);
    const master = new MasterServer(layout, config, key, log, options.logFile !== undefined);
    await master.run();
    return master;
  }

  private get files() {
    return serverLayout(this.layout, this.config.master.name);
  }

  /** Where applications uploaded from other machines are received: runtime state, never in a generation. */
  private get uploadsDir(): string {
    return join(this.files.dir, 'uploads');
  }

  /** Where generations are frozen for backups: runtime state, beside the MASTER's pid file. */
  private get snapshotsDir(): string {
    return join(this.files.dir, 'snapshots');
  }

  private async run(): Promise<void> {
    const { master } = this.config;
    this.log.info('MA-0001', `MASTER ${master.name} of domain ${this.layout.name} is starting (pid ${process.pid})`);
    await acquireServerLock(this.files.pidFile, `MASTER of ${this.layout.name}`);
    await clearSnapshots(this.snapshotsDir);
    await this.webConsole.load();
    await clearUploads(this.uploadsDir);
    await clearRetired(this.layout);
    await this.keyRotation.load();
    if (await this.store.refresh()) {
      this.log.info('MA-0022', `generation ${this.store.manifest.generation} (the domain's files changed since the last generation)`);
    }
    this.tls = await masterTls(this.layout, this.config, this.log);
    this.http = createManagementServer({
      key: () => this.key,
      identity: masterIdentity(this.layout.name),
      tls: this.tls.credentials,
      ...(this.tls.browser && { browserTls: this.tls.browser }),
      routes: this.routes(),
      logger: this.log,
      unauthorizedCode: 'MA-0040',
    });
    this.http.on('secureConnection', (socket) => socket.setNoDelay(true));
    await listen(this.http, master.address, master.port, `MASTER of ${this.layout.name}`);
    this.pinger = setInterval(() => this.registry.broadcast({ type: 'ping' }), STREAM_PING_MS);
    await this.writeState('RUNNING');
    this.log.info('MA-0002', `MASTER ${master.name} accepts connections on ${master.address}:${master.port}, generation ${this.store.manifest.generation}`);
    onStopSignals(() => void this.stop().then(() => process.exit(0)));
    reportReady();
    // Before joining the heartbeats (which waits a little for peers): the servers' re-attach starts
    // at this event (docs/protocol.md, master-up), and no server should wait on the heartbeats' start.
    void this.announce();
    await this.failures.start();
    if (this.failures.membership) {
      this.metrics.heartbeat.watch(this.failures.membership);
      this.webConsole.watch(this.failures.membership);
    }
    // After reportReady: a boot backup never holds up the service beyond freezing a generation.
    if (this.config.backup.onBoot) {
      void runBootBackup({ layout: this.layout, config: this.config, log: this.log, freeze: (targets) => this.freeze(targets) });
    }
  }

  private async writeState(status: 'RUNNING' | 'SHUTDOWN'): Promise<void> {
    const { master } = this.config;
    await writeFileAtomic(
      this.files.stateFile,
      `${JSON.stringify({ status, since: new Date().toISOString(), pid: process.pid, address: master.address, port: master.port, generation: this.store.manifest.generation })}\n`,
    );
  }

  /** Tells every MS of the configuration that the MASTER is up, and where (docs/contract.md#synchronisation-and-the-cache). */
  private async announce(): Promise<void> {
    const event: MasterUpEvent = {
      type: 'master-up',
      domain: this.layout.name,
      master: { address: this.config.master.address, port: this.config.master.port },
      generation: this.store.manifest.generation,
      digest: this.store.manifest.digest,
    };
    await forEachConcurrent(Object.keys(this.config.servers), MASTER_UP_IN_FLIGHT, async (server) => {
      const client = this.clientFor(server);
      try {
        await client.request('POST', `${API_PREFIX}/events`, { body: event, timeoutMs: MASTER_UP_TIMEOUT_MS });
        this.log.info('MA-0010', `told ${server} at ${client.where} that the MASTER is up`);
      } catch (error) {
        this.log.info('MA-0011', `${server} at ${client.where} did not take the master-up event: ${(error as Error).message}`);
      } finally {
        client.close();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('MA-0003', `MASTER ${this.config.master.name} is stopping`);
      clearInterval(this.pinger);
      await this.failures.stop();
      await this.webConsole.stop();
      this.registry.broadcast({ type: 'stopping' });
      this.registry.closeAll();
      await new Promise<void>((resolve) => {
        this.http?.close(() => resolve());
        this.http?.closeAllConnections();
      });
      await this.writeState('SHUTDOWN');
      this.log.info('MA-0004', `MASTER ${this.config.master.name} stopped`);
    })();
    return this.stopping;
  }

  private statusTable(): StatusTable {
    const { master } = this.config;
    return {
      domain: this.layout.name,
      generation: this.store.manifest.generation,
      servers: [
        {
          name: master.name,
          master: true,
          status: 'RUNNING',
          since: this.startedAt,
          node: master.node,
          pid: process.pid,
          address: master.address,
          port: master.port,
        },
        ...this.registry.rows(this.config),
      ],
    };
  }

  /**
   * The MASTER's turn: changes run one at a time, each validating against the result of the one
   * before, and a backup freezes its generation between two of them, never during one.
   */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    return this.changes.run(work);
  }

  private applyChange(change: MasterConfigChange): Promise<MasterConfigChangeResult> {
    return this.inTurn(async () => {
      if (change.op === 'remove-server' && !['SHUTDOWN', 'FAILED'].includes(this.registry.statusOf(change.server))) {
        throw new UsageError(`server ${change.server} is ${this.registry.statusOf(change.server)}; stop it first (managed stop ${this.layout.name} ${change.server})`);
      }
      let retired: string | undefined;
      try {
        const staged = change.op === 'deploy' ? await checkStaged(this.layout, change.staging) : undefined;
        this.config = await changeConfig(this.layout, change, async () => {
          if (change.op === 'deploy') retired = await installApplication(this.layout, change.name, staged!);
        });
        setLogRotation(this.config.logs);
      } catch (error) {
        if (change.op === 'deploy') await discardStaged(this.layout, change.staging);
        this.log.warn('MA-0021', `refused ${change.op}: ${(error as Error).message.split('\n').join(' ')}`);
        throw error;
      }
      // Files go after the configuration that names them: a crash in between leaves unused files.
      if (change.op === 'undeploy') retired = await removeApplication(this.layout, change.name);
      if (change.op === 'remove-server') this.registry.forget(change.server);
      const generation = await this.publish(change.op, touchedBy(change));
      // Once the servers are told, and not waited for: nothing reads the old version any more, and
      // removing thousands of files is no part of a deploy. What a kill leaves, clearRetired removes.
      void removeRetired(retired).catch(() => {});
      return { domain: this.layout.name, generation, change };
    });
  }

  /**
   * After a change is written: the new generation, logged and sent to every attached server.
   * `touched`: the only paths the change wrote (GenerationStore.refresh); all of them when unknown.
   */
  private async publish(what: string, touched?: readonly string[]): Promise<number> {
    await this.store.refresh(touched);
    const { generation, digest } = this.store.manifest;
    this.log.info('MA-0020', `${what} accepted: generation ${generation}`);
    this.registry.broadcast({ type: 'generation', generation, digest });
    return generation;
  }

  /** `master rollback`: a kept configuration brought back as a new generation, in the MASTER's turn like any change. */
  private rollback(version: string, sender: string): Promise<RollbackResult> {
    return this.inTurn(async () => {
      try {
        this.config = await rollbackConfig(this.layout, version);
      } catch (error) {
        this.log.warn('MA-0021', `refused the rollback to ${version} asked by ${sender}: ${(error as Error).message.split('\n').join(' ')}`);
        throw error;
      }
      return { domain: this.layout.name, generation: await this.publish(`rollback to ${version}`), version };
    });
  }

  /**
   * `master rotate-key`: a new domain key, handed to every attached server over its channel, then
   * the MASTER's own; in the MASTER's turn, so no change is signed with a key about to go.
   */
  private rotateKey(sender: string): Promise<KeyRotationResult> {
    return this.inTurn(async () => {
      const next = newDomainKey();
      // The heartbeats take the new key before any server has it, and sign with it only once every
      // delivery below has landed or timed out: each may take rekeySwitchMs (key-ring.ts in the
      // heartbeat package). A running server takes it in one round trip; one that does not gets it
      // at its next contact.
      this.failures.rekey(next);
      const deliveryTimeoutMs = resolveTimings(this.config.heartbeat.timings).rekeySwitchMs;
      const servers = Object.keys(this.config.servers);
      const outcome = await Promise.all(
        servers.map(async (server) => {
          if (!this.registry.isAttached(server)) return { server, delivered: false };
          const client = this.clientFor(server);
          try {
            await client.request('POST', KEY_PATH, { body: { key: next.toString('hex') }, timeoutMs: deliveryTimeoutMs });
            return { server, delivered: true };
          } catch (error) {
            this.log.warn('MA-0046', `${server} did not take the new key now (${(error as Error).message}); it gets it at its next contact`);
            return { server, delivered: false };
          } finally {
            client.close();
          }
        }),
      );
      const pending = outcome.filter((result) => !result.delivered).map((result) => result.server);
      await this.keyRotation.rotated(this.layout.keyFile, this.key, next, pending);
      this.key = next;
      const delivered = outcome.filter((result) => result.delivered).map((result) => result.server);
      this.log.info('MA-0046', `rotated the domain key at the request of ${sender}: ${delivered.length} running servers have it${pending.length ? `; ${pending.join(', ')} get it at their next contact` : ''}`);
      return { domain: this.layout.name, delivered, pending };
    });
  }

  /** A client for one of the domain's servers, verified as that server. */
  private clientFor(server: string): PeerClient {
    return new PeerClient(serverEndpoint(this.config, server)!, {
      key: this.key,
      sender: this.config.master.name,
      trust: { ca: this.tls.ca.certificate, identity: serverIdentity(this.layout.name, server) },
    });
  }

  /** The current generation, frozen in the MASTER's turn, with `targets` (archives being written) left out. */
  private freeze(targets: string[]): Promise<FrozenGeneration> {
    return this.inTurn(() => {
      const { generation, digest } = this.store.manifest;
      return FrozenGeneration.take(this.layout, this.config, { generation, digest }, this.snapshotsDir, targets);
    });
  }

  /** `POST /v2/backup`: exactly one generation, packed outside the turn so that changes need not wait for it. */
  private async backup(body: Buffer, sender: string): Promise<BackupResult> {
    const target = requestedTarget(body, this.layout.packedZip, `a backup request from ${sender}`, this.log);
    const frozen = await this.freeze([target]);
    const written = await frozen.pack(target);
    this.log.info('MA-0093', backupMessages.requestedWritten(written.path, written.manifest.generation, sender));
    const result = backupResult(written);
    this.lastBackup.noteRequested(result);
    return result;
  }

  /**
   * `POST /v2/logs` (`master logs`): a server's log lines, asked of the server itself (server-logs.ts),
   * or the MASTER's own; JSON lines for as long as the asker follows.
   */
  private async logs(body: Buffer, sender: string, response: ServerResponse): Promise<typeof HANDLED> {
    const { server, ...selection } = parseMessage(LogRequestSchema, body, `a log request from ${sender}`, this.log);
    const stop = new AbortController();
    response.once('close', () => stop.abort());
    const tail = { lines: selection.lines, follow: selection.follow, signal: stop.signal };
    if (server === this.config.master.name) {
      if (selection.app || selection.stream) throw new UsageError(`the MASTER ${server} runs no applications: leave out --app and --stream`);
      if (!this.logsToFile) throw new UsageError(`the MASTER ${server} runs in the foreground and logs to its terminal, not to a file; started with --detach, it logs to servers/${server}/logs/${server}.log`);
      await sendJsonLines(response, tailLogFiles([{ path: this.files.logFile }], tail));
      return HANDLED;
    }
    if (!this.config.servers[server]) {
      throw new UsageError(`server ${server} is not defined in domain ${this.layout.name} (servers: ${[this.config.master.name, ...Object.keys(this.config.servers)].join(', ')})`);
    }
    const client = this.clientFor(server);
    try {
      await sendJsonLines(response, await serverLogLines(client, server, selection, stop.signal));
    } finally {
      client.close();
    }
    return HANDLED;
  }

  /**
   * `POST /v2/backup/download`: exactly one generation, packed beside the snapshots (cleared at every
   * start, so a killed download leaves nothing for long) and sent as the answer's body.
   */
  private async sendBackup(sender: string, response: ServerResponse): Promise<typeof HANDLED> {
    const frozen = await this.freeze([]);
    const written = await frozen.pack(join(this.snapshotsDir, `download-${randomBytes(6).toString('hex')}.zip`));
    try {
      response.writeHead(200, { 'content-type': 'application/zip', 'content-length': written.bytes });
      await pipeline(createReadStream(written.path), response);
      this.log.info('MA-0093', backupMessages.requestedSent(written.bytes, written.manifest.generation, sender));
    } finally {
      await rm(written.path, { force: true });
    }
    return HANDLED;
  }

  /**
   * The console's live tail (console/log-lines.ts): the same lines as `master logs --follow`, read
   * from the server itself on whatever node it runs. What stops the tail is said as its last line.
   */
  private async *consoleLogLines(source: LogSource, signal: AbortSignal): AsyncIterable<string> {
    const follow = { lines: DEFAULT_LOG_LINES, follow: true };
    try {
      if (source.server === this.config.master.name) {
        if (!this.logsToFile) throw new UsageError(`the MASTER ${source.server} runs in the foreground and logs to its terminal, not to a file`);
        for await (const { line } of tailLogFiles([{ path: this.files.logFile }], { ...follow, signal })) yield line;
        return;
      }
      const client = this.clientFor(source.server);
      try {
        for await (const { line, stream } of await serverLogLines(client, source.server, { ...follow, ...(source.app && { app: source.app }) }, signal)) {
          yield stream ? `${stream}: ${line}` : line;
        }
      } finally {
        client.close();
      }
    } catch (error) {
      if (!signal.aborted) yield `(${(error as Error).message})`;
    }
  }

  private routes(): Route[] {
    return [
      ...this.webConsole.routes(),
      metricsRoute({ key: () => this.key, registry: this.metrics.registry, logger: this.log, refusedCode: 'MA-0043' }),
      {
        // The verified first contact (core's tls/first-contact.ts): public, since the asker has no CA yet.
        method: 'GET',
        path: TRUST_PATH,
        public: true,
        handle: ({ query }) => {
          const nonce = query.get('nonce') ?? '';
          if (!TRUST_NONCE.test(nonce)) throw new UsageError('the first contact needs a nonce of 64 hexadecimal characters');
          const { certificate } = this.tls.ca;
          return { domain: this.layout.name, ca: certificate, proof: trustProof(this.key, this.layout.name, nonce, certificate, this.tls.leaf) };
        },
      },
      { method: 'POST', path: ROTATE_KEY_PATH, handle: ({ sender }) => this.rotateKey(sender) },
      {
        // A server that was down at a rotation: it proves itself with its certificate's key (key-rotation.ts).
        method: 'POST',
        path: KEY_REFRESH_PATH,
        public: true,
        maxBody: MAX_KEY_REFRESH_BODY,
        admit: (request, response) => {
          if (this.keyRotation.admits()) return true;
          this.log.warn('MA-0040', `refused a key refresh from ${request.socket.remoteAddress}: no server is waiting for a key`);
          sendJson(response, 401, { error: 'key refresh refused: no server is waiting for a key; start the server with --key-file', exitCode: ExitCode.usage });
          return false;
        },
        handle: async ({ body }) => {
          const refresh = parseMessage(KeyRefreshSchema, body, 'a key refresh', this.log);
          return this.keyRotation.refresh(refresh, this.tls.ca.certificate, this.key);
        },
      },
      {
        method: 'POST',
        path: CERTIFICATE_PATH,
        handle: async ({ body, sender }) => {
          const request = parseMessage(CertificateRequestSchema, body, `the certificate request of ${sender}`, this.log);
          const answer = await issueServerCertificate(this.tls.ca, this.config, this.layout.name, sender, request);
          this.log.info('MA-0045', `issued ${sender} a certificate from the domain CA`);
          return answer;
        },
      },
      {
        method: 'GET',
        path: `${API_PREFIX}/generation`,
        handle: ({ query }) => {
          const manifest = this.store.manifest;
          // A server that already holds this generation gets a short answer: the no-change fast path.
          if (query.get('known') === manifest.digest) return { unchanged: true, generation: manifest.generation, digest: manifest.digest };
          return this.store.manifestJson;
        },
      },
      {
        method: 'POST',
        path: `${API_PREFIX}/content`,
        maxBody: MAX_CONTENT_REQUEST_BODY,
        handle: ({ body, response }) => {
          sendContent(response, requestedContent(body, (sha256) => this.store.contentOf(sha256), this.store.manifest.generation));
          return HANDLED;
        },
      },
      {
        method: 'GET',
        path: `${API_PREFIX}/events`,
        handle: ({ query, response, request }) => {
          const server = query.get('server') ?? '';
          if (!this.config.servers[server]) throw new UsageError(`server ${server} is not defined in domain ${this.layout.name}`);
          response.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
          request.socket.setKeepAlive(true, 1_000);
          const hello: StreamEvent = { type: 'generation', generation: this.store.manifest.generation, digest: this.store.manifest.digest };
          response.write(`${JSON.stringify(hello)}\n`);
          this.registry.attach(server, response);
          this.log.info('MA-0030', `${server} attached (MANAGED)`);
          response.on('close', () => {
            const how = this.registry.detach(server, response, this.failures.isAlive(server));
            if (how !== 'replaced') this.log.info('MA-0031', `${server} detached (${how === 'graceful' ? 'stopped' : 'connection lost'})`);
          });
          return HANDLED;
        },
      },
      {
        method: 'POST',
        path: `${API_PREFIX}/servers/:server/report`,
        handle: ({ params, body, sender }) => {
          const status = parseMessage(ManagedStatusSchema, body, `the report of ${params.server} from ${sender}`, this.log);
          if (status.server !== params.server || !this.config.servers[params.server!]) {
            throw new UsageError(`server ${params.server} is not defined in domain ${this.layout.name}`);
          }
          this.registry.report(status);
          for (const restart of status.peerRestarts ?? []) {
            if (!this.config.servers[restart.server]) continue;
            this.log.info('MA-0056', `while the MASTER was away, ${status.server} ${PEER_RESTART_OUTCOMES[restart.outcome]} ${restart.server} at ${restart.at} (${restart.detail})`);
          }
          return { generation: this.store.manifest.generation };
        },
      },
      { method: 'GET', path: `${API_PREFIX}/status`, handle: () => this.statusTable() },
      // The validated configuration, for commands run from a machine without the domain (it holds no key).
      { method: 'GET', path: `${API_PREFIX}/config`, handle: () => this.config },
      {
        method: 'POST',
        path: DEPLOY_UPLOAD_PATH,
        stream: true,
        maxBody: MAX_UPLOAD_BYTES,
        handle: async (context) => {
          const upload = await receiveUpload(this.layout, this.uploadsDir, context, this.log);
          return this.applyChange(deployChange(upload, upload.staging));
        },
      },
      {
        method: 'POST',
        path: `${API_PREFIX}/config`,
        handle: ({ body, sender }) => this.applyChange(parseMessage(MasterConfigChangeSchema, body, `a configuration change from ${sender}`, this.log)),
      },
      { method: 'GET', path: CONFIG_HISTORY_PATH, handle: () => this.inTurn(() => configHistory(this.layout, this.store.manifest.generation)) },
      {
        method: 'POST',
        path: CONFIG_ROLLBACK_PATH,
        handle: ({ body, sender }) => this.rollback(parseMessage(RollbackRequestSchema, body, `a rollback from ${sender}`, this.log).version, sender),
      },
      {
        method: 'POST',
        path: `${API_PREFIX}/servers/operation`,
        handle: ({ body, sender }) => this.serverOperations.run(parseMessage(ServerOperationRequestSchema, body, `a server operation from ${sender}`, this.log)),
      },
      { method: 'POST', path: `${API_PREFIX}/backup`, handle: ({ body, sender }) => this.backup(body, sender) },
      { method: 'POST', path: LOGS_PATH, handle: ({ body, sender, response }) => this.logs(body, sender, response) },
      { method: 'POST', path: BACKUP_DOWNLOAD_PATH, handle: ({ sender, response }) => this.sendBackup(sender, response) },
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

