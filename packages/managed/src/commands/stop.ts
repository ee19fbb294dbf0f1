import { API_PREFIX, PeerUnreachableError, commandContext, runningPid, waitForExit, type CommandModule, type GlobalOptions } from '@flotilla/core';
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
    let pid: number | undefined;
    try {
      ({ pid } = await connection.client.request<{ pid: number }>('POST', `${API_PREFIX}/stop`));
    } catch (error) {
      if (!(error instanceof PeerUnreachableError)) throw error;
      pid = await runningPid(connection.files.pidFile);
      if (pid === undefined) {
        context.result({ domain: options.domain, server: options.server, stopped: false, running: false }, `${what} is not running`);
        return;
      }
      process.kill(pid, 'SIGTERM');
    } finally {
      connection.client.close();
    }
    await waitForExit(pid, what);
    context.result({ domain: options.domain, server: options.server, stopped: true, pid }, `${what} stopped (pid ${pid})`);
  },
};
