import { commandContext, detachedOutput, domainLayout, parseMasterOption, serverLayout, startDetached, type CommandModule, type GlobalOptions } from '@flotilla/core';
import { ManagedServer } from '../managed-server.js';

interface StartOptions extends GlobalOptions {
  domain: string;
  server: string;
  master?: string;
  keyFile?: string;
  detach: boolean;
}

export const startCommand: CommandModule<GlobalOptions, StartOptions> = {
  command: 'start <domain> <server>',
  describe: 'Run a managed server: sync from the MASTER, or start INDEPENDENT from the local cache',
  builder: (cli) =>
    cli
      .positional('domain', { type: 'string', demandOption: true })
      .positional('server', { type: 'string', demandOption: true })
      .option('master', { type: 'string', requiresArg: true, describe: 'HOST:PORT of the MASTER (first start on a machine without the domain)' })
      .option('key-file', { type: 'string', requiresArg: true, describe: 'A copy of the domain key (first start on a machine without the domain)' })
      .option('detach', { type: 'boolean', default: false, describe: 'Run in the background; return once it serves' }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    if (options.detach) {
      if (options.master) parseMasterOption(options.master); // a typo fails here, in the foreground
      const { logFile } = serverLayout(domainLayout(context.home, options.domain), options.server);
      const args = ['start', options.domain, options.server, '--home', context.home];
      if (options.master) args.push('--master', options.master);
      if (options.keyFile) args.push('--key-file', options.keyFile);
      const pid = await startDetached(args, logFile);
      context.result({ pid }, String(pid));
      return;
    }
    await ManagedServer.start({ home: context.home, domain: options.domain, server: options.server, master: options.master, keyFile: options.keyFile, logFile: detachedOutput() });
  },
};
