import {
  CONFIG_ROLLBACK_PATH,
  HISTORY_VERSION,
  RollbackResultSchema,
  UsageError,
  commandContext,
  parseMessage,
  type CommandModule,
  type GlobalOptions,
  type MasterOptions,
  masterOptions,
  type RollbackRequest,
} from '@flotilla/core';
import { historyMessages } from '../../history-messages.js';
import { connectMaster, withMaster } from '../../master-client.js';

interface RollbackOptions extends GlobalOptions, MasterOptions {
  domain: string;
  /** Not `version`: that name is every binary's --version. */
  historyVersion: string;
}

export const rollbackCommand: CommandModule<GlobalOptions, RollbackOptions> = {
  command: 'rollback <domain> <history-version>',
  describe: 'Bring a kept version of the configuration back as a new generation, through the MASTER; the servers get it as any change',
  builder: (cli) =>
    masterOptions(cli)
      .positional('domain', { type: 'string', demandOption: true })
      .positional('history-version', { type: 'string', demandOption: true, describe: 'A version as master history lists it (domain_YYYYMMDD_HHMMSS)' }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const version = String(options.historyVersion).replace(/\.json5$/, '');
    // Refused here, before the MASTER is asked: a mistyped version is a usage error (exit 2).
    if (!HISTORY_VERSION.test(version)) {
      throw new UsageError(historyMessages.notAVersion(String(options.historyVersion), options.domain));
    }
    const connection = await connectMaster(context.home, options.domain, options);
    const result = await withMaster(connection, async (client) =>
      parseMessage(RollbackResultSchema, await client.request('POST', CONFIG_ROLLBACK_PATH, { body: { version } satisfies RollbackRequest }), `the answer of the MASTER at ${client.where}`),
    );
    context.result(result, historyMessages.rolledBack(result.domain, result.version, result.generation));
  },
};
