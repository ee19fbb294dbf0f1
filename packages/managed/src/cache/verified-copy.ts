import { createHash } from 'node:crypto';
import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IntegrityError, byteLimit, type FileEntry } from '@flotilla/core';

/**
 * Writes `source` to `target`, checking while it streams that it is exactly `entry`: never more
 * bytes than declared, and the SHA-256 it should have. With `fsync`, the file is durable before it
 * counts; without, the caller makes a whole batch durable at once (syncFilesBelow).
 */
export async function writeVerified(source: Readable, entry: FileEntry, target: string, from: string, fsync = true): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const hash = createHash('sha256');
  const check = byteLimit(
    entry.size,
    () => new IntegrityError(`${entry.path} from ${from} is larger than the ${entry.size} bytes of its manifest`),
    (chunk) => hash.update(chunk),
  );
  await pipeline(source, check, createWriteStream(target, { mode: entry.mode, highWaterMark: 1024 * 1024 }));
  if (check.passed() !== entry.size || hash.digest('hex') !== entry.sha256) {
    throw new IntegrityError(`${entry.path} from ${from} does not match its manifest (size or SHA-256); not used`);
  }
  if (fsync) {
    const handle = await open(target, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await chmod(target, entry.mode);
}
