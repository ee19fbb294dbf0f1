import { API_PREFIX, ManagedStatusSchema, commandContext, parseMessage, renderTable, statusWithDuration, type CommandModule, type GlobalOptions, type ManagedStatus } from '@flotilla/core';
import { connectServer, withServer } from '../managed-client.js';

interface StatusOptions extends GlobalOptions {
  domain: string;
  server: string;
}

function render(status: ManagedStatus): string {
  const mode = status.reason ? `${status.mode} (${status.reason})` : status.mode;
  const rows = [
    ['status', statusWithDuration(status.status, status.statusSince)],
    ['mode', `${mode} since ${status.since}`],
    ['pid', String(status.pid)],
    ['generation', String(status.generation)],
    ['master', `${status.master.address}:${status.master.port} (${status.master.connected ? 'connected' : 'not connected'})`],
    ['listen', `${status.address}:${status.port}, HTTP ${status.http}`],
    ['apps', status.apps.map((app) => `${app.name} ${app.context} ${app.status}`).join(', ') || '-'],
  ];
  return [`Server ${status.server} of ${status.domain}`, renderTable(['', ''], rows).split('\n').slice(2).join('\n')].join('\n');
}

export const statusCommand: CommandModule<GlobalOptions, StatusOptions> = {
  command: 'status <domain> <server>',
  describe: 'The managed server\'s own view: status, mode and why, generation, MASTER link',
  builder: (cli) =>
    cli.positional('domain', { type: 'string', demandOption: true }).positional('server', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const connection = await connectServer(context.home, options.domain, options.server);
    const status = await withServer(connection, options.server, async (client) =>
      parseMessage(ManagedStatusSchema, await client.request('GET', `${API_PREFIX}/status`), `the status of server ${options.server} at ${client.where}`),
    );
    context.result(status, () => render(status));
  },
};
