import {
  API_PREFIX,
  ConfigChangeResultSchema,
  PeerClient,
  PeerUnreachableError,
  UnreachableError,
  masterCredentialsFromHome,
  masterEndpoint,
  messages,
  openDomain,
  parseMessage,
  type CommandContext,
  type ConfigChange,
  type Domain,
} from '@flotilla/core/client';

export interface MasterConnection extends Domain {
  client: PeerClient;
}

/** A client for the MASTER of a domain in this home, found through the domain's configuration. */
export async function connectMaster(home: string, domain: string): Promise<MasterConnection> {
  const opened = await openDomain(home, domain);
  return { ...opened, client: new PeerClient(masterEndpoint(opened.config), await masterCredentialsFromHome(opened.layout)) };
}

/**
 * Runs a request that changes the domain: while the MASTER is down it fails with exit 3 and the
 * SPEC's message, so the operator knows nothing was changed and why.
 */
export async function withMaster<T>(connection: MasterConnection, work: (client: PeerClient) => Promise<T>, purpose: 'change' | 'read' = 'change'): Promise<T> {
  try {
    return await work(connection.client);
  } catch (error) {
    if (error instanceof PeerUnreachableError) {
      const { address, port } = connection.client.peer;
      const message =
        purpose === 'change'
          ? messages.masterUnreachable(connection.layout.name, address, port)
          : `MASTER of ${connection.layout.name} at ${address}:${port} is unreachable: is it running? (master start ${connection.layout.name})`;
      throw new UnreachableError(message, { cause: error });
    }
    throw error;
  } finally {
    connection.client.close();
  }
}

/** Sends one configuration change to the MASTER and prints the new generation. */
export async function submitChange(context: CommandContext, domain: string, change: ConfigChange, done: string): Promise<void> {
  const connection = await connectMaster(context.home, domain);
  const result = await withMaster(connection, async (client) =>
    parseMessage(ConfigChangeResultSchema, await client.request('POST', `${API_PREFIX}/config`, { body: change }), `the answer of the MASTER at ${client.where}`),
  );
  context.result(result, `${done}: generation ${result.generation}`);
}
