import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  TerminalProgress,
  UsageError,
  commandContext,
  describeProgress,
  messages,
  openDomain,
  type BackupResult,
  type CommandModule,
  type Domain,
  type GlobalOptions,
} from '@flotilla/core';
import { packMessages } from './messages.js';
import { packDomain } from './pack.js';
import { backupResult } from './result.js';
import { packThroughMaster } from './through-master.js';
import type { WrittenBackup } from './write-backup.js';

interface PackOptions extends GlobalOptions {
  domain: string;
  file?: string;
}

export const packCommand: CommandModule<GlobalOptions, PackOptions> = {
  command: '$0 <domain>',
  describe: 'Back up a domain (configuration, key, applications) into one zip',
  builder: (cli) =>
    cli
      .positional('domain', { type: 'string', demandOption: true, describe: 'The domain to back up' })
      .option('file', {
        alias: 'f',
        type: 'string',
        requiresArg: true,
        describe: 'Where to write the archive (default: <home>/domains/<domain>_packed.zip)',
      }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    // A domain whose configuration does not load is refused here (exit 2): a backup must restore.
    const domain = await openDomain(context.home, options.domain);
    const target = options.file ? resolve(options.file) : domain.layout.packedZip;
    await checkTarget(target);

    const result = (await packOnline(domain, target)) ?? backupResult(await packOffline(domain, target));
    context.result(result, messages.packCompleted(options.domain, result.path));
  },
};

/** The MASTER does the work and answers at the end: the terminal line says what is being waited for. */
async function packOnline(domain: Domain, target: string): Promise<BackupResult | undefined> {
  const progress = TerminalProgress.forStderr();
  progress?.update(packMessages.packingThroughMaster(domain.config.name));
  return packThroughMaster(domain, target).finally(() => progress?.done());
}

/** Packs from the files on disk, when no MASTER of this home answers; a file changed meanwhile makes it try again. */
async function packOffline(domain: Domain, target: string): Promise<WrittenBackup> {
  const progress = TerminalProgress.forStderr();
  return packDomain(domain, {
    target,
    onProgress: (counts) => progress?.update(describeProgress(`Packing ${domain.config.name}`, counts)),
  }).finally(() => progress?.done());
}

async function checkTarget(target: string): Promise<void> {
  if ((await stat(target).catch(() => undefined))?.isDirectory()) throw new UsageError(packMessages.targetIsDirectory(target));
  if (!(await stat(dirname(target)).catch(() => undefined))?.isDirectory()) throw new UsageError(packMessages.targetDirMissing(dirname(target)));
}
