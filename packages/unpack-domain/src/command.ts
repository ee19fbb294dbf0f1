import type { CommandModule, GlobalOptions } from '@flotilla/core/cli';

export interface UnpackOptions extends GlobalOptions {
  domain?: string;
  file?: string;
  identity?: string;
  verify: boolean;
  address?: string;
  port?: string;
  node?: string;
  yes: boolean;
  overwrite?: boolean;
  delete?: boolean;
}

/** Long options the reference product spells with one dash (`-overwrite`); `-f` is a short alias. */
export const singleDashOptions = ['file', 'identity', 'verify', 'address', 'port', 'node', 'yes', 'overwrite', 'delete'];

/** The options, light to load for `--help`; the restore itself is imported when it runs. */
export const unpackCommand: CommandModule<GlobalOptions, UnpackOptions> = {
  command: '$0 [domain]',
  describe: 'Restore a domain from a pack-domain archive',
  builder: (cli) =>
    cli
      .positional('domain', { type: 'string', describe: 'Domain to restore from <home>/domains/<domain>_packed.zip (with -f: must be the one FILE holds)' })
      .option('file', { alias: 'f', type: 'string', requiresArg: true, describe: 'The backup archive to restore' })
      .option('identity', { alias: 'i', type: 'string', requiresArg: true, describe: 'The age identity file (age-keygen) that decrypts an encrypted FILE.zip.age' })
      .option('verify', { type: 'boolean', default: false, describe: 'Check the archive completely (every check a restore makes) and write nothing: exit 0 if sound, 4 if not' })
      .option('address', { type: 'string', requiresArg: true, describe: 'New MASTER listen address (not asked then)' })
      .option('port', { type: 'string', requiresArg: true, describe: 'New MASTER listen port (not asked then)' })
      .option('node', { type: 'string', requiresArg: true, describe: 'New MASTER node name (not asked then)' })
      .option('yes', { type: 'boolean', default: false, describe: "Keep the archive's MASTER settings without asking" })
      // No defaults: yargs counts a defaulted option as given, and these two conflict.
      .option('overwrite', { type: 'boolean', describe: 'If the domain exists, replace the files the backup holds and keep the others' })
      .option('delete', { type: 'boolean', describe: 'If the domain exists, replace it whole' })
      .conflicts('overwrite', 'delete') as never,
  handler: async (options) => (await import('./run-unpack.js')).runUnpack(options),
};
