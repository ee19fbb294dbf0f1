import { masterOptions, type CommandModule, type GlobalOptions, type MasterOptions } from '@flotilla/core/cli';

export interface PackOptions extends GlobalOptions, MasterOptions {
  domain: string;
  file?: string;
  recipient?: string[];
}

/** The options, light to load for `--help`; the packing itself is imported when it runs. */
export const packCommand: CommandModule<GlobalOptions, PackOptions> = {
  command: '$0 <domain>',
  describe: 'Back up a domain (configuration, key, applications) into one zip',
  builder: (cli) =>
    masterOptions(cli)
      .positional('domain', { type: 'string', demandOption: true, describe: 'The domain to back up' })
      .option('file', {
        alias: 'f',
        type: 'string',
        requiresArg: true,
        describe: 'Where to write the archive (default: <home>/domains/<domain>_packed.zip)',
      })
      .option('recipient', {
        alias: 'r',
        type: 'string',
        array: true,
        requiresArg: true,
        describe: 'Encrypt the archive in the age format for this public key (age1…; repeatable); the default FILE then ends in .zip.age',
      }) as never,
  handler: async (options) => {
    // With --recipient, the age library loads on its thread while this one loads the packing code.
    const encryption = options.recipient?.length ? (await import('./encryption-thread.js')).EncryptionThread.start(options.recipient) : undefined;
    return (await import('./run-pack.js')).runPack(options, encryption);
  },
};
