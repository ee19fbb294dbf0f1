import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConfigError,
  DEFAULT_MASTER_ADDRESS,
  DEFAULT_MASTER_NAME,
  DEFAULT_MASTER_PORT,
  DEFAULT_NODE_NAME,
  UsageError,
  assertName,
  commandContext,
  createDomainCa,
  createDomainKey,
  domainLayout,
  domainFiles,
  isValidAddress,
  isWildcardAddress,
  messages,
  parseDomainConfig,
  parsePortOption,
  renderDomainConfig,
  syncDirectory,
  writeFileAtomic,
  type CommandModule,
  type DomainConfig,
  type DomainConfigInput,
  type GlobalOptions,
} from '@flotilla/core';

interface CreateDomainOptions extends GlobalOptions {
  domain: string;
  address: string;
  port: string;
  node: string;
  server: string[];
}

/** Each server's management port is this far above the previous one, as in the reference layout. */
const SERVER_PORT_STEP = 10;
const DEFAULT_CLUSTER = 'cluster1';

export const createDomainCommand: CommandModule<GlobalOptions, CreateDomainOptions> = {
  command: 'create-domain <domain>',
  describe: 'Create a domain: its directory, configuration and key',
  builder: (cli) =>
    cli
      .positional('domain', { type: 'string', demandOption: true, describe: 'Name of the new domain' })
      .option('address', { type: 'string', default: DEFAULT_MASTER_ADDRESS, describe: 'MASTER listen address', requiresArg: true })
      .option('port', { type: 'string', default: String(DEFAULT_MASTER_PORT), describe: 'MASTER listen port', requiresArg: true })
      .option('node', { type: 'string', default: DEFAULT_NODE_NAME, describe: 'Node (machine) of the MASTER', requiresArg: true })
      .option('server', {
        type: 'string',
        array: true,
        default: [],
        describe: 'A managed server NAME:HTTPPORT on the MASTER\'s node (repeatable); all join cluster1',
        requiresArg: true,
      }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const config = buildConfig(options);
    const text = renderDomainConfig(config, `Flotilla domain ${options.domain}. Reference: docs/configuration.md`);
    // Validate exactly what will be written, so a created domain always loads back.
    let loaded: DomainConfig;
    try {
      loaded = parseDomainConfig(text, { file: 'domain.json5 (from the options)', expectedName: options.domain });
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(`the options make an invalid configuration:\n${error.message}`);
      throw error;
    }
    const layout = domainLayout(context.home, options.domain);
    await installDomain(layout.dir, options.domain, text);

    context.result(
      {
        domain: options.domain,
        dir: layout.dir,
        configFile: layout.configFile,
        master: loaded.master,
        servers: Object.entries(loaded.servers).map(([name, server]) => ({ name, ...server })),
        clusters: loaded.clusters,
      },
      () =>
        [
          `Domain [${options.domain}] created at ${layout.dir}`,
          `  MASTER ${loaded.master.name} on node ${loaded.master.node}, listening on ${loaded.master.address}:${loaded.master.port}`,
          ...Object.entries(loaded.servers).map(
            ([name, s]) => `  server ${name} on node ${s.node}, management ${s.address}:${s.port}, HTTP ${s.http}`,
          ),
          `Start it with: master start ${options.domain}`,
        ].join('\n'),
    );
  },
};

function parseServerOption(spec: string): { name: string; http: number } {
  const match = /^([^:]+):(\d+)$/.exec(spec);
  if (!match) throw new UsageError(`--server ${spec}: expected NAME:HTTPPORT, for example server1:8088`);
  const [, name, port] = match;
  assertName('server', name!);
  const http = Number(port);
  if (http < 1 || http > 65535) throw new UsageError(`--server ${spec}: HTTP port must be from 1 to 65535`);
  return { name: name!, http };
}

function buildConfig(options: CreateDomainOptions): DomainConfigInput {
  assertName('domain', options.domain);
  assertName('node', options.node);
  if (!isValidAddress(options.address)) {
    throw new UsageError(`--address ${options.address}: must be an IPv4 or IPv6 address or a host name`);
  }
  const masterPort = parsePortOption('--port', options.port);
  const servers: NonNullable<DomainConfigInput['servers']> = {};
  options.server.map(parseServerOption).forEach(({ name, http }, index) => {
    if (servers[name]) throw new UsageError(`--server ${name}: given twice`);
    const port = masterPort + SERVER_PORT_STEP * (index + 1);
    if (port > 65535) throw new UsageError(`--server ${name}: no management port left above --port ${masterPort}`);
    servers[name] = { node: options.node, address: '127.0.0.1', port, http };
  });
  const names = Object.keys(servers);
  return {
    name: options.domain,
    master: { name: DEFAULT_MASTER_NAME, node: options.node, address: options.address, port: masterPort },
    nodes: { [options.node]: { host: isWildcardAddress(options.address) ? '127.0.0.1' : options.address } },
    servers,
    clusters: names.length ? { [DEFAULT_CLUSTER]: { servers: names } } : {},
    heartbeat: { mode: 'multicast' },
    backup: { onBoot: false, dir: 'backups', node: null, keep: 10 },
    applications: {},
  };
}

/**
 * Builds the domain in a hidden directory beside its final place and renames it in: a crash leaves
 * either no domain or a complete one, and an existing domain is never touched.
 */
async function installDomain(target: string, domain: string, configText: string): Promise<void> {
  const parent = join(target, '..');
  if (await exists(target)) throw new UsageError(messages.domainExists(domain, target));
  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.${domain}.creating-`));
  try {
    const files = domainFiles(staging);
    await mkdir(files.securityDir, { recursive: true, mode: 0o700 });
    for (const dir of [files.historyDir, files.appsDir, files.serversDir, files.backupsDir]) await mkdir(dir, { recursive: true });
    await writeFileAtomic(files.configFile, configText);
    await createDomainKey(files.keyFile);
    await createDomainCa(files, domain);
    if (await exists(target)) throw new UsageError(messages.domainExists(domain, target));
    await rename(staging, target);
    await syncDirectory(parent);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
