import { commandContext, metricsToken, openDomain, readDomainKey, type CommandModule, type GlobalOptions } from '@flotilla/core';

interface MetricsTokenOptions extends GlobalOptions {
  domain: string;
}

export const metricsTokenCommand: CommandModule<GlobalOptions, MetricsTokenOptions> = {
  command: 'metrics-token <domain>',
  describe: 'Print the bearer token Prometheus scrapes /metrics with, on the MASTER and every server (offline; derived from the key, never the key)',
  builder: (cli) => cli.positional('domain', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const { layout } = await openDomain(context.home, options.domain);
    const token = metricsToken(await readDomainKey(layout.keyFile));
    context.result({ domain: layout.name, token }, token);
  },
};
