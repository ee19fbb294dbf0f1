import { commandContext, type CommandModule, type GlobalOptions, type MasterOptions, masterOptions } from '@flotilla/core';
import { submitChange } from '../master-client.js';

interface UndeployOptions extends GlobalOptions, MasterOptions {
  domain: string;
  name: string;
}

export const undeployCommand: CommandModule<GlobalOptions, UndeployOptions> = {
  command: 'undeploy <domain> <name>',
  describe: 'Remove an application; its servers drain and stop it, through the MASTER',
  builder: (cli) => masterOptions(cli).positional('domain', { type: 'string', demandOption: true }).positional('name', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    await submitChange(commandContext(options), options, { op: 'undeploy', name: options.name }, `application ${options.name} undeployed`);
  },
};
