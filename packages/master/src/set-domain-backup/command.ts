import type { CommandModule, GlobalOptions } from '@flotilla/core/cli';
import { masterOptions, type MasterOptions } from '@flotilla/core/cli';
import type { PolicyOptions } from './policy-options.js';

export interface SetDomainBackupOptions extends GlobalOptions, PolicyOptions, MasterOptions {
  domain?: string;
}

/** The options, light to load for `--help`; the work is imported when it runs. */
export const setDomainBackupCommand: CommandModule<GlobalOptions, SetDomainBackupOptions> = {
  command: '$0 [domain]',
  describe: 'Print the backup policy, or change it through the running MASTER',
  builder: (cli) =>
    masterOptions(cli)
      .positional('domain', { type: 'string', describe: 'The domain (may be left out when the home holds only one)' })
      .option('backupOnBoot', { type: 'string', requiresArg: true, describe: 'true|false: write a backup at every MASTER start' })
      .option('backupDir', { type: 'string', requiresArg: true, describe: 'Backup directory, relative to the domain directory or absolute' })
      .option('nodeName', { type: 'string', requiresArg: true, describe: 'Node to copy boot backups to through its exec, or null for none' })
      .option('keep', { type: 'string', requiresArg: true, describe: 'How many boot backups to keep (1 to 1000)' })
      .option('encryptTo', {
        type: 'string',
        array: true,
        requiresArg: true,
        describe: 'Age public key to encrypt boot backups for (repeatable; replaces the list), or none to write them in clear',
      }) as never,
  handler: async (options) => (await import('./run-set-domain-backup.js')).runSetDomainBackup(options),
};
