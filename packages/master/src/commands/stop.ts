import { API_PREFIX, PeerUnreachableError, commandContext, runningPid, serverLayout, waitForExit, type CommandModule, type GlobalOptions } from '@flotilla/core';
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
    const pidFile = serverLayout(connection.layout, connection.config.master.name).pidFile;
    let pid: number | undefined;
    try {
      ({ pid } = await connection.client.request<{ pid: number }>('POST', `${API_PREFIX}/stop`));
    } catch (error) {
      if (!(error instanceof PeerUnreachableError)) throw error;
      // Not answering: a MASTER of this home that is still starting or hung is stopped by signal.
      pid = await runningPid(pidFile);
      if (pid === undefined) {
        context.say(`MASTER of ${options.domain} is not running`);
        context.result({ domain: options.domain, stopped: false, running: false }, `MASTER of ${options.domain} is not running`);
        return;
      }
      process.kill(pid, 'SIGTERM');
    } finally {
      connection.client.close();
    }
    await waitForExit(pid, `MASTER of ${options.domain}`);
    context.result({ domain: options.domain, stopped: true, pid }, `MASTER of ${options.domain} stopped (pid ${pid})`);
  },
};
