import {
  CONFIG_HISTORY_PATH,
  ConfigHistorySchema,
  commandContext,
  formatBytes,
  parseMessage,
  renderTable,
  type CommandModule,
  type ConfigHistory,
  type GlobalOptions,
  type MasterOptions,
  masterOptions,
} from '@flotilla/core';
import { historyMessages } from '../../history-messages.js';
import { connectMaster, withMaster } from '../../master-client.js';

interface HistoryOptions extends GlobalOptions, MasterOptions {
  domain: string;
}

/** Oldest first, then the configuration in use; a kept version equal to it is what a rollback brought back. */
function renderHistory(history: ConfigHistory): string {
  if (history.versions.length === 0) return historyMessages.neverChanged(history.domain, history.current.generation);
  const rows = history.versions.map((entry) => [
    entry.version,
    entry.replacedAt.replace('T', ' ').replace(/Z$/, ''),
    formatBytes(entry.bytes),
    entry.sha256 === history.current.sha256 ? historyMessages.sameAsCurrent : '',
  ]);
  const table = renderTable(['version', 'in use until (UTC)', 'size', ''], rows);
  return `${table}\n${historyMessages.current(history.domain, history.current.generation, formatBytes(history.current.bytes))}`;
}

export const historyCommand: CommandModule<GlobalOptions, HistoryOptions> = {
  command: 'history <domain>',
  describe: 'List the kept versions of the configuration (config/.history/), through the MASTER',
  builder: (cli) => masterOptions(cli).positional('domain', { type: 'string', demandOption: true }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const connection = await connectMaster(context.home, options.domain, options, 'read');
    const history = await withMaster(
      connection,
      async (client) => parseMessage(ConfigHistorySchema, await client.request('GET', CONFIG_HISTORY_PATH), `the answer of the MASTER at ${client.where}`),
      'read',
    );
    context.result(history, () => renderHistory(history));
  },
};
