import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CLI_SENDER,
  GENERATION_CONFIG_FILE,
  PeerClient,
  PeerUnreachableError,
  UnreachableError,
  UsageError,
  assertName,
  domainLayout,
  parseDomainConfig,
  readDomainKey,
  readTrustedCa,
  serverEndpoint,
  serverIdentity,
  serverLayout,
  type DomainLayout,
  type ServerLayout,
} from '@flotilla/core';
import { CacheStore } from './cache/cache-store.js';
import { TRUSTED_CA_FILE } from './master-trust.js';

export interface ServerConnection {
  layout: DomainLayout;
  files: ServerLayout;
  client: PeerClient;
}

const SILENT_LOG = { info() {}, warn() {}, error() {} };

/**
 * A client for a managed server's management port, found through what this home knows of it:
 * its cache (another machine), or the domain's own files (the MASTER's machine).
 */
export async function connectServer(home: string, domain: string, server: string): Promise<ServerConnection> {
  assertName('domain', domain);
  assertName('server', server);
  const layout = domainLayout(home, domain);
  const files = serverLayout(layout, server);
  const cache = new CacheStore(files.cacheDir, SILENT_LOG);
  const root = await cache.currentRoot();
  const configFile = root ? join(root, GENERATION_CONFIG_FILE) : layout.configFile;
  const text = await readFile(configFile, 'utf8').catch(() => undefined);
  if (text === undefined) {
    throw new UsageError(`server ${server} of ${domain} has never run in ${home}, and this home has no copy of the domain`);
  }
  const config = parseDomainConfig(text, { file: configFile, expectedName: domain });
  const endpoint = serverEndpoint(config, server);
  if (!endpoint) throw new UsageError(`server ${server} is not defined in domain ${domain} (servers: ${Object.keys(config.servers).join(', ') || 'none'})`);
  const cachedKey = cache.path('domain.key');
  const keyFile = (await stat(cachedKey).then(() => true, () => false)) ? cachedKey : layout.keyFile;
  const ca = await readTrustedCa([cache.path(TRUSTED_CA_FILE), layout.caCertFile]);
  if (ca === undefined) throw new UsageError(`server ${server} of ${domain} has no CA to verify it with in ${home}: start it once (managed start ${domain} ${server}) so it learns the domain's CA`);
  const credentials = { key: await readDomainKey(keyFile), sender: CLI_SENDER, trust: { ca, identity: serverIdentity(domain, server) } };
  return { layout, files, client: new PeerClient(endpoint, credentials) };
}

/** Runs a request to the server; a server that does not answer is "not running" (exit 3). */
export async function withServer<T>(connection: ServerConnection, server: string, work: (client: PeerClient) => Promise<T>): Promise<T> {
  try {
    return await work(connection.client);
  } catch (error) {
    if (error instanceof PeerUnreachableError) {
      throw new UnreachableError(`server ${server} of ${connection.layout.name} is not running (no answer at ${connection.client.where})`, { cause: error });
    }
    throw error;
  } finally {
    connection.client.close();
  }
}
