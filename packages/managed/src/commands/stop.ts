import { commandContext, stopServer, type CommandModule, type GlobalOptions } from '@flotilla/core';
import { connectServer } from '../managed-client.js';

interface StopOptions extends GlobalOptions {
  domain: string;
  server: string;
}

export const stopCommand: CommandModule<GlobalOptions, StopOptions> = {
  command: 'stop <domain> <server>',
  describe: 'Stop a managed server gracefully',
  builder: (cli) =>
    cli.positional('domain', { type: 'string', demandOption: true }).positional('server', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const connection = await connectServer(context.home, options.domain, options.server);
    const what = `server ${options.server} of ${options.domain}`;
    const pid = await stopServer(connection.client, connection.files.pidFile, what);
    const result = { domain: options.domain, server: options.server };
    if (pid === undefined) context.result({ ...result, stopped: false, running: false }, `${what} is not running`);
    else context.result({ ...result, stopped: true, pid }, `${what} stopped (pid ${pid})`);
  },
};
