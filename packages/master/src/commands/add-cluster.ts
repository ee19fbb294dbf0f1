import { assertName, commandContext, type CommandModule, type GlobalOptions, type MasterOptions, masterOptions } from '@flotilla/core';
import { submitChange } from '../master-client.js';

interface AddClusterOptions extends GlobalOptions, MasterOptions {
  domain: string;
  cluster: string;
  servers: string;
}

export const addClusterCommand: CommandModule<GlobalOptions, AddClusterOptions> = {
  command: 'add-cluster <domain> <cluster>',
  describe: 'Add a cluster of existing servers, through the MASTER',
  builder: (cli) =>
    masterOptions(cli)
      .positional('domain', { type: 'string', demandOption: true })
      .positional('cluster', { type: 'string', demandOption: true })
      .option('servers', { type: 'string', demandOption: true, requiresArg: true, describe: 'Servers, comma-separated' }) as never,
  handler: async (options) => {
    assertName('cluster', options.cluster);
    const servers = options.servers.split(',').map((server) => server.trim()).filter(Boolean);
    await submitChange(commandContext(options), options, { op: 'add-cluster', cluster: options.cluster, servers }, `cluster ${options.cluster} added`);
  },
};
