import { applicationsOf, commandContext, renderTable, type CommandModule, type GlobalOptions, type MasterOptions, masterOptions } from '@flotilla/core';
import { readDomainConfig } from '../master-client.js';

interface AppsOptions extends GlobalOptions, MasterOptions {
  domain: string;
}

export const appsCommand: CommandModule<GlobalOptions, AppsOptions> = {
  command: 'apps <domain>',
  describe: 'List the deployed applications: context, targets and the servers they run on (offline)',
  builder: (cli) => masterOptions(cli).positional('domain', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const config = await readDomainConfig(context.home, options);
    const apps = Object.entries(config.applications).map(([name, app]) => ({
      name,
      context: app.context,
      targets: app.targets,
      servers: Object.keys(config.servers).filter((server) => applicationsOf(config, server).includes(name)),
    }));
    context.result(
      { domain: options.domain, apps },
      () => renderTable(['APPLICATION', 'CONTEXT', 'TARGETS', 'SERVERS'], apps.map((app) => [app.name, app.context, app.targets.join(','), app.servers.join(',')])),
    );
  },
};
