import {
  API_PREFIX,
  StatusTableSchema,
  commandContext,
  parseMessage,
  renderTable,
  statusWithDuration,
  type CommandModule,
  type GlobalOptions,
  type MasterOptions,
  masterOptions,
  type StatusTable,
} from '@flotilla/core/client';
import { connectMaster, withMaster } from '../master-client.js';

interface StatusOptions extends GlobalOptions, MasterOptions {
  domain: string;
  watch: boolean;
}

/** Often enough to watch a failover happen, rare enough to cost the MASTER nothing. */
const WATCH_INTERVAL_MS = 1_000;

export function renderStatus(table: StatusTable): string {
  const rows = table.servers.map((row) => [
    row.master ? `${row.name}(*)` : row.name,
    statusWithDuration(row.status, row.since),
    row.node,
    row.pid === null ? '-' : String(row.pid),
    row.cluster ?? '-',
    row.master ? '-' : (row.mode ?? '-'),
    row.master ? String(table.generation) : row.generation == null ? '-' : String(row.generation),
    `${row.address}:${row.port}`,
    row.http === undefined ? '-' : String(row.http),
  ]);
  const failures = table.servers.filter((row) => row.failure).map((row) => `${row.name}: ${row.failure}`);
  return [
    `Domain ${table.domain}, generation ${table.generation}`,
    renderTable(['SERVER', 'STATUS', 'NODE', 'PID', 'CLUSTER', 'MODE', 'GENERATION', 'LISTEN', 'HTTP'], rows),
    ...failures,
  ].join('\n');
}

export const statusCommand: CommandModule<GlobalOptions, StatusOptions> = {
  command: 'status <domain>',
  describe: 'The server table: status and time in it, node, PID, cluster, mode, generation',
  builder: (cli) =>
    masterOptions(cli)
      .positional('domain', { type: 'string', demandOption: true })
      .option('watch', { type: 'boolean', default: false, describe: 'Refresh every second on a terminal; into a pipe, or with --json (one JSON line), print only changes' }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const connection = await connectMaster(context.home, options.domain, options, 'read');
    const fetchTable = async () =>
      parseMessage(StatusTableSchema, await connection.client.request('GET', `${API_PREFIX}/status`), `the status table from the MASTER at ${connection.client.where}`);
    if (!options.watch) {
      const table = await withMaster(connection, fetchTable, 'read');
      context.result(table, () => renderStatus(table));
      return;
    }
    await withMaster(
      connection,
      async () => {
        let last = '';
        for (;;) {
          const table = await fetchTable();
          // The table's facts, not its durations (those tick every second): what "changed" means.
          const line = JSON.stringify(table);
          const changed = line !== last;
          if (options.json) {
            if (changed) process.stdout.write(`${line}\n`);
          } else if (process.stdout.isTTY) {
            process.stdout.write(`\x1b[2J\x1b[H${renderStatus(table)}\n`);
          } else if (changed) {
            // A pipe or a file has no screen to redraw: each changed table, after a blank line.
            process.stdout.write(`${last ? '\n' : ''}${renderStatus(table)}\n`);
          }
          last = line;
          await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
        }
      },
      'read',
    );
  },
};
