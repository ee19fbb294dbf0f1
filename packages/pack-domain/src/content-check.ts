import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { FlotillaError } from '@flotilla/core';
import type { BackupEntry } from './collect.js';
import { packMessages } from './messages.js';

/**
 * A file differs from what the manifest, written before it, says of it: something wrote to the
 * domain during the pack. The archive would mix two states, so it is not kept.
 */
export class FileChangedError extends FlotillaError {
  constructor(readonly path: string, what: string) {
    super(packMessages.changed(path, what));
  }
}

/**
 * The content of `entry`, hashed and counted as the archive consumes it. It fails with a
 * FileChangedError as soon as the file grows past its listed size, or at its end if its size or
 * SHA-256 differs from the listing, or if it was removed; any other read error is a plain failure.
 */
export function checkedContent(entry: BackupEntry, onBytes: (count: number) => void): Readable {
  const hash = createHash('sha256');
  let size = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > entry.size) return done(new FileChangedError(entry.path, `grew past its listed ${entry.size} bytes`));
      hash.update(chunk);
      onBytes(chunk.length);
      done(null, chunk);
    },
    flush(done) {
      if (size !== entry.size) return done(new FileChangedError(entry.path, `shrank from ${entry.size} to ${size} bytes`));
      if (hash.digest('hex') !== entry.sha256) return done(new FileChangedError(entry.path, 'changed'));
      done();
    },
  });
  const source = entry.read();
  source.on('error', (error: NodeJS.ErrnoException) => {
    check.destroy(
      error.code === 'ENOENT'
        ? new FileChangedError(entry.path, 'was removed')
        : new FlotillaError(`cannot read ${entry.path}: ${error.message}`, undefined, { cause: error }),
    );
  });
  check.on('close', () => source.destroy());
  return source.pipe(check);
}
