import {
  API_PREFIX,
  ConfigChangeResultSchema,
  DomainConfigSchema,
  FirstContactUnreachableError,
  PeerClient,
  PeerUnreachableError,
  UnreachableError,
  messages,
  parseMessage,
  openDomain,
  reachMaster,
  wantsRemoteMaster,
  type CommandContext,
  type ConfigChange,
  type DomainConfig,
  type MasterAccess,
  type MasterOptions,
} from '@flotilla/core/client';

export type MasterConnection = MasterAccess;

/** What the commands that talk to a running MASTER take: the domain, and where its MASTER is when this machine has no copy. */
export type MasterCommandOptions = MasterOptions & { domain: string };

function unreachable(domain: string, client: Pick<PeerClient, 'peer'>, purpose: 'change' | 'read', cause: unknown): UnreachableError {
  const { address, port } = client.peer;
  const message =
    purpose === 'change'
      ? messages.masterUnreachable(domain, address, port)
      : `MASTER of ${domain} at ${address}:${port} is unreachable: is it running? (master start ${domain})`;
  return new UnreachableError(message, { cause });
}

/**
 * A client for the MASTER of a domain: the one of this home, or the one `--master` names
 * (core's remote/master-access.ts decides which, for every command).
 */
export async function connectMaster(home: string, domain: string, options: MasterOptions, purpose: 'change' | 'read' = 'change'): Promise<MasterConnection> {
  try {
    return await reachMaster(home, domain, options);
  } catch (error) {
    if (error instanceof FirstContactUnreachableError) throw unreachable(domain, error, purpose, error);
    throw error;
  }
}

/**
 * Runs a request that changes the domain: while the MASTER is down it fails with exit 3 and the
 * message of docs/contract.md#messages, so the operator knows nothing was changed and why.
 */
export async function withMaster<T>(connection: MasterConnection, work: (client: PeerClient) => Promise<T>, purpose: 'change' | 'read' = 'change'): Promise<T> {
  try {
    return await work(connection.client);
  } catch (error) {
    if (error instanceof PeerUnreachableError) throw unreachable(connection.domain, connection.client, purpose, error);
    throw error;
  } finally {
    connection.client.close();
  }
}

/** The domain's configuration: this home's copy, or, from another machine, the MASTER's. */
export async function domainConfigOf(connection: MasterConnection): Promise<DomainConfig> {
  if (connection.local) return connection.local.config;
  const { client } = connection;
  return parseMessage(DomainConfigSchema, await client.request('GET', `${API_PREFIX}/config`), `the configuration from the MASTER at ${client.where}`);
}

/** The configuration, for commands that only read it: offline from this home, or the MASTER's from another machine. */
export async function readDomainConfig(home: string, options: MasterCommandOptions): Promise<DomainConfig> {
  if (!wantsRemoteMaster(options)) return (await openDomain(home, options.domain)).config;
  const connection = await connectMaster(home, options.domain, options, 'read');
  return withMaster(connection, () => domainConfigOf(connection), 'read');
}

/** Sends one configuration change to the MASTER and prints the new generation. */
export async function submitChange(context: CommandContext, options: MasterCommandOptions, change: ConfigChange, done: string): Promise<void> {
  const connection = await connectMaster(context.home, options.domain, options);
  const result = await withMaster(connection, async (client) =>
    parseMessage(ConfigChangeResultSchema, await client.request('POST', `${API_PREFIX}/config`, { body: change }), `the answer of the MASTER at ${client.where}`),
  );
  context.result(result, `${done}: generation ${result.generation}`);
}
