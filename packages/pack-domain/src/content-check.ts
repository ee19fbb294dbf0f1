import { statSync, type Stats } from 'node:fs';
import { FlotillaError, eventLoopBreather } from '@flotilla/core/backup';
import { identityOf, type ListedFile } from './collect.js';
import { packMessages } from './messages.js';

/**
 * A file differs from what was listed before the pack began: something wrote to the domain during
 * the pack. The archive would mix two states, so it is not kept.
 */
export class FileChangedError extends FlotillaError {
  constructor(readonly path: string, what: string) {
    super(packMessages.changed(path, what));
  }
}

/**
 * Checks, once every file is in the archive, that none has changed since it was listed: each was
 * checked as it was read, but a file read early may have been written since, while later ones were
 * read. Nothing that wrote during the pack can go unnoticed. The stats are synchronous: one costs
 * less than a trip to the thread pool.
 */
export async function checkStillListed(files: readonly ListedFile[]): Promise<void> {
  const breathe = eventLoopBreather();
  for (const file of files) {
    const info = statSync(file.absolute, { throwIfNoEntry: false });
    if (!info) throw new FileChangedError(file.path, 'was removed');
    requireUnchanged(file, info);
    await breathe();
  }
}

/** Throws a FileChangedError unless `info` (a fresh stat of `file`) is still the file as listed. */
export function requireUnchanged(file: ListedFile, info: Stats): void {
  const now = identityOf(info);
  const { ino, size, mtimeMs } = file.identity;
  if (now.ino !== ino || now.size !== size || now.mtimeMs !== mtimeMs) throw new FileChangedError(file.path, 'changed');
}
