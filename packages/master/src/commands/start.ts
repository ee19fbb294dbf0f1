import { commandContext, detachedOutput, openDomain, serverLayout, startDetached, type CommandModule, type GlobalOptions } from '@flotilla/core';
import { MasterServer } from '../server/master-server.js';

interface StartOptions extends GlobalOptions {
  domain: string;
  detach: boolean;
}

export const startCommand: CommandModule<GlobalOptions, StartOptions> = {
  command: 'start <domain>',
  describe: 'Run the MASTER of a domain',
  builder: (cli) =>
    cli
      .positional('domain', { type: 'string', demandOption: true })
      .option('detach', { type: 'boolean', default: false, describe: 'Run in the background; return once it accepts connections' }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    if (options.detach) {
      // Validate first, so a bad configuration fails here, in the foreground, with its exit code.
      const { layout, config } = await openDomain(context.home, options.domain);
      const { logFile } = serverLayout(layout, config.master.name);
      const pid = await startDetached(['start', options.domain, '--home', context.home], logFile);
      context.result({ pid }, String(pid));
      return;
    }
    await MasterServer.start({ home: context.home, domain: options.domain, logFile: detachedOutput() });
  },
};
