/**
 * A fleet of simulated managed servers for scale tests and the scale bench (docs/contract.md#scale): each
 * speaks the real protocol over TLS with the real client code (core's PeerClient, signatures and
 * schemas, managed's MasterLink with its event stream and retry schedule), in this one process. Each one has its own
 * certificate from the domain's CA and its own management port (for the MASTER's `master-up`),
 * follows the event stream, reports, and syncs the configuration file of a new generation
 * (manifest, then its content by hash, checked against the manifest's SHA-256). It runs no
 * applications and keeps nothing on disk: what it measures is the MASTER's side.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  API_PREFIX,
  GenerationManifestSchema,
  GenerationUnchangedSchema,
  HANDLED,
  MasterUpEventSchema,
  PeerClient,
  createLogger,
  createManagementServer,
  issueCertificate,
  listen,
  masterIdentity,
  newKeyPair,
  openDomain,
  parseMessage,
  readDomainCa,
  readDomainKey,
  serverIdentity,
} from '@flotilla/core';
import { MasterLink, followEvents } from '@flotilla/managed';

/** The only file a simulated server fetches: the configuration (it runs no applications). */
const CONFIG_PATH = 'config/domain.json5';
/** As long as a real server waits for a stalled content answer. */
const CONTENT_IDLE_MS = 10_000;

class SimulatedServer {
  constructor(fleet, name, settings, tls) {
    this.fleet = fleet;
    this.name = name;
    this.settings = settings;
    this.tls = tls;
    this.digest = undefined;
    this.generation = null;
    this.connected = false;
    /** When this server last became attached (Date.now()). */
    this.attachedAt = undefined;
    /** When each generation was synced, by number. */
    this.syncedAt = new Map();
    this.link = new MasterLink(this.linkTurns());
    this.client = new PeerClient(fleet.master, { key: fleet.key, sender: name, trust: { ca: fleet.ca, identity: masterIdentity(fleet.domain) } });
  }

  async listen() {
    this.http = createManagementServer({
      key: () => this.fleet.key,
      identity: serverIdentity(this.fleet.domain, this.name),
      tls: this.tls,
      logger: this.fleet.log,
      unauthorizedCode: 'MS-0040',
      routes: [
        {
          method: 'POST',
          path: `${API_PREFIX}/events`,
          handle: ({ body, sender }) => {
            parseMessage(MasterUpEventSchema, body, `an event from ${sender}`);
            this.fleet.masterUps++;
            if (!this.connected) this.link.retryNow();
            return { ok: true };
          },
        },
      ],
    });
    await listen(this.http, this.settings.address, this.settings.port, `simulated server ${this.name}`);
  }

  /** What a simulated server does at each turn of its link (managed's MasterLink, as a managed server runs it). */
  linkTurns() {
    return {
      follow: (opened) =>
        followEvents(
          this.client,
          this.name,
          async (hello) => {
            if (hello.digest !== this.digest) await this.sync();
            opened();
            this.connected = true;
            this.attachedAt = Date.now();
            void this.report();
          },
          (event) => {
            if (event.type !== 'generation' || event.digest === this.digest) return undefined;
            return this.sync()
              .catch((error) => {
                this.fleet.failed(this.name, error);
                throw error;
              })
              .then(() => this.report());
          },
        ),
      failed: (error) => this.fleet.failed(this.name, error),
      lost: () => {
        this.connected = false;
      },
    };
  }

  /** The MASTER's current generation: its manifest, then the configuration file's bytes, checked. */
  async sync() {
    const where = `the generation from the MASTER at ${this.client.where}`;
    const answer = await this.client.request('GET', `${API_PREFIX}/generation${this.digest ? `?known=${this.digest}` : ''}`);
    if (answer && answer.unchanged) {
      const unchanged = parseMessage(GenerationUnchangedSchema, answer, where);
      this.generation = unchanged.generation;
      return;
    }
    const manifest = parseMessage(GenerationManifestSchema, answer, where);
    const config = manifest.files.find((file) => file.path === CONFIG_PATH);
    if (!config) throw new Error(`${where} has no ${CONFIG_PATH}`);
    const hash = createHash('sha256');
    let bytes = 0;
    await this.client.receive(`${API_PREFIX}/content`, { hashes: [config.sha256] }, { data: (chunk) => { hash.update(chunk); bytes += chunk.length; } }, CONTENT_IDLE_MS, config.size);
    const sha256 = hash.digest('hex');
    if (bytes !== config.size || sha256 !== config.sha256) throw new Error(`${CONFIG_PATH} from ${this.client.where}: ${bytes} bytes with SHA-256 ${sha256}, the manifest says ${config.size} and ${config.sha256}`);
    this.digest = manifest.digest;
    this.generation = manifest.generation;
    this.syncedAt.set(manifest.generation, Date.now());
  }

  status() {
    const now = new Date().toISOString();
    const { master } = this.fleet;
    return {
      domain: this.fleet.domain,
      server: this.name,
      status: 'RUNNING',
      statusSince: this.fleet.startedAt,
      pid: process.pid,
      mode: this.connected ? 'MANAGED' : 'INDEPENDENT',
      ...(this.connected ? {} : { reason: 'master-connection-lost' }),
      since: now,
      generation: this.generation,
      master: { address: master.address, port: master.port, connected: this.connected },
      address: this.settings.address,
      port: this.settings.port,
      http: this.settings.http,
      node: this.settings.node,
      apps: [],
    };
  }

  async report() {
    try {
      await this.client.request('POST', `${API_PREFIX}/servers/${this.name}/report`, { body: this.status() });
      this.fleet.reports++;
    } catch (error) {
      this.fleet.failed(this.name, error);
    }
  }

  async stop() {
    this.link.stop();
    this.connected = false;
    this.client.close();
    await new Promise((resolve) => {
      this.http?.close(() => resolve());
      this.http?.closeAllConnections();
    });
  }
}

export class Fleet {
  /** Errors seen, counted by their first words (a re-attach meets refused connections by design). */
  errors = new Map();
  masterUps = 0;
  reports = 0;
  startedAt = new Date().toISOString();

  /**
   * Simulates every server of `domain`'s configuration in `home` (or those `servers` names): a
   * certificate each from the domain's CA, then their management ports. `start()` attaches them.
   */
  static async create(home, domain, servers) {
    const { layout, config } = await openDomain(home, domain);
    const fleet = new Fleet();
    fleet.domain = domain;
    fleet.key = await readDomainKey(layout.keyFile);
    const authority = await readDomainCa(layout);
    if (!authority) throw new Error(`domain ${domain} in ${home} has no CA (config/security/ca.crt): create it with master create-domain`);
    fleet.ca = authority.certificate;
    fleet.master = { address: config.master.address, port: config.master.port };
    fleet.log = createLogger({ domain, server: 'fleet', file: join(home, 'fleet.log') });
    // One key pair for all: a certificate each still names its own server, which is what is checked.
    const pair = newKeyPair();
    const names = servers ?? Object.keys(config.servers);
    fleet.servers = [];
    for (const name of names) {
      const settings = config.servers[name];
      if (!settings) throw new Error(`server ${name} is not defined in domain ${domain}`);
      const cert = await issueCertificate(authority, { identity: serverIdentity(domain, name), commonName: name, hosts: [settings.address], publicKey: pair.publicKey });
      fleet.servers.push(new SimulatedServer(fleet, name, settings, { key: pair.privateKey, cert }));
    }
    await Promise.all(fleet.servers.map((server) => server.listen()));
    return fleet;
  }

  failed(server, error) {
    const what = `${error?.constructor?.name ?? 'Error'}: ${String(error?.message ?? error).slice(0, 120)}`;
    this.errors.set(what, (this.errors.get(what) ?? 0) + 1);
  }

  /** Every server starts following the MASTER (as a server does at its start). */
  start() {
    this.running = this.servers.map((server) => server.link.run());
  }

  get attached() {
    return this.servers.filter((server) => server.connected).length;
  }

  /** How many servers hold generation `generation`. */
  at(generation) {
    return this.servers.filter((server) => server.generation === generation && server.digest !== undefined).length;
  }

  /** The latest attach time of all servers, once all are attached after `since`; else undefined. */
  allAttachedSince(since) {
    let last = since;
    for (const server of this.servers) {
      if (!server.connected || server.attachedAt === undefined || server.attachedAt < since) return undefined;
      last = Math.max(last, server.attachedAt);
    }
    return last;
  }

  /** The latest time a server synced `generation`, once all have; else undefined. */
  allSynced(generation) {
    let last = 0;
    for (const server of this.servers) {
      const at = server.syncedAt.get(generation);
      if (at === undefined) return undefined;
      last = Math.max(last, at);
    }
    return last;
  }

  async stop() {
    await Promise.all(this.servers.map((server) => server.stop()));
    await Promise.allSettled(this.running ?? []);
  }
}

/** A poll until `check` is truthy, for the fleet's waits (the test harness's waitFor is vitest-bound). */
export async function until(what, check, timeoutMs, intervalMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
