import {
  API_PREFIX,
  FlotillaError,
  PeerUnreachableError,
  STOP_TIMEOUT_MS,
  StopAnswerSchema,
  commandContext,
  masterOptions,
  parseMessage,
  serverLayout,
  stopServer,
  type CommandModule,
  type GlobalOptions,
  type MasterOptions,
  type PeerClient,
} from '@flotilla/core/client';
import { connectMaster, withMaster } from '../master-client.js';

interface StopOptions extends GlobalOptions, MasterOptions {
  domain: string;
}

/** How often a remote stop looks whether the MASTER's port has closed. */
const STOP_POLL_MS = 100;

/**
 * From another machine there is no process to watch: the MASTER is asked to stop, and is gone once
 * its port no longer answers.
 */
async function stopRemoteMaster(client: PeerClient, what: string): Promise<number> {
  const { pid } = parseMessage(StopAnswerSchema, await client.request('POST', `${API_PREFIX}/stop`), `the answer of ${what} at ${client.where}`);
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (;;) {
    try {
      await client.request('GET', `${API_PREFIX}/status`);
    } catch (error) {
      if (error instanceof PeerUnreachableError) return pid;
      throw error;
    }
    if (Date.now() > deadline) throw new FlotillaError(`${what} (pid ${pid} at ${client.where}) did not stop within ${STOP_TIMEOUT_MS / 1000} s; look at its log on its machine`);
    await new Promise((resolve) => setTimeout(resolve, STOP_POLL_MS));
  }
}

export const stopCommand: CommandModule<GlobalOptions, StopOptions> = {
  command: 'stop <domain>',
  describe: 'Stop the MASTER gracefully (the managed servers keep serving)',
  builder: (cli) => masterOptions(cli).positional('domain', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const what = `MASTER of ${options.domain}`;
    const connection = await connectMaster(context.home, options.domain, options, 'read');
    const { local } = connection;
    const pid = local
      ? await stopServer(connection.client, serverLayout(local.layout, local.config.master.name).pidFile, what)
      : await withMaster(connection, (client) => stopRemoteMaster(client, what), 'read');
    if (pid === undefined) context.result({ domain: options.domain, stopped: false, running: false }, `${what} is not running`);
    else context.result({ domain: options.domain, stopped: true, pid }, `${what} stopped (pid ${pid})`);
  },
};
