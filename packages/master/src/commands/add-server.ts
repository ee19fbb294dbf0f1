import { assertName, commandContext, parsePortOption, type CommandModule, type GlobalOptions, type MasterOptions, masterOptions } from '@flotilla/core';
import { submitChange } from '../master-client.js';

interface AddServerOptions extends GlobalOptions, MasterOptions {
  domain: string;
  server: string;
  node: string;
  address: string;
  port: string;
  http: string;
  cluster?: string;
}

export const addServerCommand: CommandModule<GlobalOptions, AddServerOptions> = {
  command: 'add-server <domain> <server>',
  describe: 'Add a managed server to the configuration, through the MASTER',
  builder: (cli) =>
    masterOptions(cli)
      .positional('domain', { type: 'string', demandOption: true })
      .positional('server', { type: 'string', demandOption: true })
      .option('node', { type: 'string', demandOption: true, requiresArg: true, describe: 'Node it runs on' })
      .option('address', { type: 'string', demandOption: true, requiresArg: true, describe: 'Management listen address' })
      .option('port', { type: 'string', demandOption: true, requiresArg: true, describe: 'Management port' })
      .option('http', { type: 'string', demandOption: true, requiresArg: true, describe: 'Applications\' HTTP port' })
      .option('cluster', { type: 'string', requiresArg: true, describe: 'Cluster to join (created if missing)' }) as never,
  handler: async (options) => {
    assertName('server', options.server);
    const change = {
      op: 'add-server' as const,
      server: options.server,
      node: options.node,
      address: options.address,
      port: parsePortOption('--port', options.port),
      http: parsePortOption('--http', options.http),
      ...(options.cluster ? { cluster: options.cluster } : {}),
    };
    await submitChange(commandContext(options), options, change, `server ${options.server} added`);
  },
};
