import { commandContext, serverLayout, stopServer, type CommandModule, type GlobalOptions } from '@flotilla/core/client';
import { connectMaster } from '../master-client.js';

interface StopOptions extends GlobalOptions {
  domain: string;
}

export const stopCommand: CommandModule<GlobalOptions, StopOptions> = {
  command: 'stop <domain>',
  describe: 'Stop the MASTER gracefully (the managed servers keep serving)',
  builder: (cli) => cli.positional('domain', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const connection = await connectMaster(context.home, options.domain);
    const what = `MASTER of ${options.domain}`;
    const pid = await stopServer(connection.client, serverLayout(connection.layout, connection.config.master.name).pidFile, what);
    if (pid === undefined) context.result({ domain: options.domain, stopped: false, running: false }, `${what} is not running`);
    else context.result({ domain: options.domain, stopped: true, pid }, `${what} stopped (pid ${pid})`);
  },
};
