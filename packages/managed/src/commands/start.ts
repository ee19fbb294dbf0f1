import { commandContext, detachedOutput, domainLayout, parseMasterOption, serverLayout, startDetached, type CommandModule, type GlobalOptions } from '@flotilla/core';
import { ManagedServer } from '../managed-server.js';

/**
 * Node options of a server started with --detach (docs/operations.md#memory). A server's garbage is
 * short-lived (requests, proxied chunks); V8's default young generation grows to 16 MiB
 * semi-spaces (48 MiB in all) under load and keeps them resident. 4 MiB holds what is in flight and
 * costs a scavenge every few milliseconds at full load: 15-20 MiB less resident memory under
 * load (the proxy bench measures both).
 */
const SERVER_NODE_FLAGS = ['--max-semi-space-size=4'];

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
      const pid = await startDetached(args, logFile, SERVER_NODE_FLAGS);
      context.result({ pid }, String(pid));
      return;
    }
    await ManagedServer.start({ home: context.home, domain: options.domain, server: options.server, master: options.master, keyFile: options.keyFile, logFile: detachedOutput() });
  },
};
