import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError, commandContext, messages, openDomain, type CommandModule, type GlobalOptions } from '@flotilla/core';
import { TerminalProgress, describeProgress } from '@flotilla/unpack-domain';
import { packMessages } from './messages.js';
import { packDomain } from './pack.js';

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

    const progress = TerminalProgress.forStderr();
    const written = await packDomain(domain, {
      target,
      onProgress: (phase, counts) =>
        progress?.update(describeProgress(`${phase === 'hashing' ? 'Reading' : 'Packing'} ${options.domain}`, counts)),
    }).finally(() => progress?.done());

    context.result(
      {
        domain: options.domain,
        path: written.path,
        files: written.manifest.files.length,
        contentBytes: written.manifest.files.reduce((sum, file) => sum + file.size, 0),
        bytes: written.bytes,
        sha256: written.sha256,
        generation: written.manifest.generation,
        createdAt: written.manifest.createdAt,
      },
      messages.packCompleted(options.domain, written.path),
    );
  },
};

async function checkTarget(target: string): Promise<void> {
  if ((await stat(target).catch(() => undefined))?.isDirectory()) throw new UsageError(packMessages.targetIsDirectory(target));
  if (!(await stat(dirname(target)).catch(() => undefined))?.isDirectory()) throw new UsageError(packMessages.targetDirMissing(dirname(target)));
}
