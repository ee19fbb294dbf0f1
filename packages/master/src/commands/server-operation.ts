import {
  API_PREFIX,
  FlotillaError,
  ServerOperationAnswerSchema,
  commandContext,
  parseMessage,
  serverOperationTimeoutMs,
  type CommandModule,
  type GlobalOptions,
  type MasterOptions,
  masterOptions,
  type ServerOperation,
} from '@flotilla/core';
import { connectMaster, domainConfigOf, withMaster } from '../master-client.js';

interface ServerOperationOptions extends GlobalOptions, MasterOptions {
  domain: string;
  targets: string[];
  rolling?: boolean;
}

const DONE: Record<ServerOperation, string> = { start: 'started', stop: 'stopped', restart: 'restarted' };

/** `master start-server | stop-server | restart-server`: the MASTER does it on each server's node and waits. */
function serverOperationCommand(operation: ServerOperation, describe: string): CommandModule<GlobalOptions, ServerOperationOptions> {
  return {
    command: `${operation}-server <domain> <targets..>`,
    describe,
    builder: (cli) => {
      const positionals = masterOptions(cli)
        .positional('domain', { type: 'string', demandOption: true })
        .positional('targets', { type: 'string', array: true, demandOption: true, describe: 'Servers and clusters, by name' });
      return (
        operation === 'restart'
          ? positionals.option('rolling', { type: 'boolean', default: false, describe: 'One server at a time, the next once the last serves again' })
          : positionals
      ) as never;
    },
    handler: async (options) => {
      const context = commandContext(options);
      const targets = options.targets.map(String);
      const connection = await connectMaster(context.home, options.domain, options);
      const answer = await withMaster(connection, async (client) => {
        const servers = Object.keys((await domainConfigOf(connection)).servers).length;
        return parseMessage(
          ServerOperationAnswerSchema,
          await client.request('POST', `${API_PREFIX}/servers/operation`, {
            body: { operation, targets, rolling: Boolean(options.rolling) },
            // The MASTER answers once every server is up (or down): that takes a while.
            timeoutMs: serverOperationTimeoutMs(servers),
          }),
          `the answer of the MASTER at ${client.where}`,
        );
      });
      context.result(answer, () =>
        answer.results.map((result) => (result.ok ? `${result.server}: ${DONE[operation]}, ${result.status}` : `${result.server}: ${result.error} (${result.status})`)).join('\n'),
      );
      const failed = answer.results.filter((result) => !result.ok).map((result) => result.server);
      if (failed.length) throw new FlotillaError(`${operation}-server failed for ${failed.join(', ')}`);
    },
  };
}

export const startServerCommand = serverOperationCommand('start', 'Start servers (or every server of a cluster) on their nodes, through the MASTER');
export const stopServerCommand = serverOperationCommand('stop', 'Stop servers gracefully, through the MASTER; failure handling leaves them stopped');
export const restartServerCommand = serverOperationCommand('restart', 'Restart servers through the MASTER; --rolling takes them one at a time');
