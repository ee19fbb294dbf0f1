import type { CommandModule, GlobalOptions } from '@flotilla/core';

export interface BackupsOptions extends GlobalOptions {
  domain: string;
  verify: boolean;
  identity?: string;
}

export const backupsCommand: CommandModule<GlobalOptions, BackupsOptions> = {
  command: 'backups <domain>',
  describe: 'List every backup of the domain (boot backups here and on the backup node, pack-domain files): time, generation, size, where, encrypted; --verify checks each fully',
  builder: (cli) =>
    cli
      .positional('domain', { type: 'string', demandOption: true })
      .option('verify', { type: 'boolean', default: false, describe: 'Check every backup as unpack-domain --verify does: exit 4 if one is bad' })
      .option('identity', { alias: 'i', type: 'string', requiresArg: true, describe: 'The age identity file (age-keygen) that decrypts encrypted backups for --verify' }) as never,
  handler: async (options) => (await import('./run-backups.js')).runBackups(options),
};
