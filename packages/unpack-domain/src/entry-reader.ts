import { createHash } from 'node:crypto';
import type { File } from 'unzipper';
import { IntegrityError } from '@flotilla/core';
import { unpackMessages } from './messages.js';

export interface ExpectedContent {
  path: string;
  size: number;
  sha256: string;
}

/**
 * The decompressed bytes of one archive entry, checked as they stream: the moment more bytes come
 * out than `expected.size` the read stops (a zip bomb costs at most the declared size, whatever its
 * headers claim), and after the last chunk the size and SHA-256 must match. Consumers write each
 * chunk as it comes; any failure throws an IntegrityError that names the archive and the entry.
 */
export async function* checkedChunks(archive: string, record: File, expected: ExpectedContent): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let size = 0;
  const stream = record.stream();
  // After an early stop the inflater may still push into the destroyed stream; that late error is
  // expected and must not crash the process.
  stream.on('error', () => {});
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > expected.size) {
        throw new IntegrityError(
          unpackMessages.badEntry(archive, expected.path, `decompresses to more than the ${expected.size} bytes the manifest declares`),
        );
      }
      hash.update(chunk);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof IntegrityError) throw error;
    throw new IntegrityError(unpackMessages.badEntry(archive, expected.path, `cannot be read: ${(error as Error).message}`), { cause: error });
  } finally {
    stream.destroy();
  }
  if (size !== expected.size) {
    throw new IntegrityError(unpackMessages.badEntry(archive, expected.path, `holds ${size} bytes, but the manifest declares ${expected.size}`));
  }
  const actual = hash.digest('hex');
  if (actual !== expected.sha256) {
    throw new IntegrityError(unpackMessages.badEntry(archive, expected.path, `has SHA-256 ${actual}, but the manifest declares ${expected.sha256}`));
  }
}

/** A whole (small) entry in memory, checked the same way. */
export async function readChecked(archive: string, record: File, expected: ExpectedContent): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of checkedChunks(archive, record, expected)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** An entry with no manifest line to check it against (the manifest itself), read up to `limit` bytes. */
export async function readLimited(archive: string, record: File, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = record.stream();
  stream.on('error', () => {});
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new IntegrityError(unpackMessages.badEntry(archive, record.path, `is larger than the ${limit} bytes allowed`));
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof IntegrityError) throw error;
    throw new IntegrityError(unpackMessages.badEntry(archive, record.path, `cannot be read: ${(error as Error).message}`), { cause: error });
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}
