import { applicationsOf, commandContext, openDomain, renderTable, type CommandModule, type GlobalOptions } from '@flotilla/core';

interface AppsOptions extends GlobalOptions {
  domain: string;
}

export const appsCommand: CommandModule<GlobalOptions, AppsOptions> = {
  command: 'apps <domain>',
  describe: 'List the deployed applications: context, targets and the servers they run on (offline)',
  builder: (cli) => cli.positional('domain', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const { config } = await openDomain(context.home, options.domain);
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
