import { commandContext, type CommandModule, type GlobalOptions, type MasterOptions, masterOptions } from '@flotilla/core';
import { submitChange } from '../master-client.js';

interface RemoveServerOptions extends GlobalOptions, MasterOptions {
  domain: string;
  server: string;
}

export const removeServerCommand: CommandModule<GlobalOptions, RemoveServerOptions> = {
  command: 'remove-server <domain> <server>',
  describe: 'Remove a stopped managed server (and its cluster memberships), through the MASTER',
  builder: (cli) =>
    masterOptions(cli).positional('domain', { type: 'string', demandOption: true }).positional('server', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    await submitChange(commandContext(options), options, { op: 'remove-server', server: options.server }, `server ${options.server} removed`);
  },
};
