import { setTimeout as sleep } from 'node:timers/promises';
import { eventLoopBreather } from '@flotilla/core/backup';
import type { ListedFile } from './collect.js';
import { BLOCK_BYTES, DEFLATE_LEVEL, blockRing, chooseMethod, readSmallFile, writeLargeFile, type BlockRing, type PackedFile, type SmallFile } from './compress-file.js';
import { DeflatePool } from './deflate-pool.js';
import type { ZipWriter } from './zip-writer.js';

/**
 * Small files go to the deflate workers in batches of about this much content: one message per
 * batch costs a fraction of a millisecond, a few hundred KiB keep a worker busy for several.
 */
const BATCH_BYTES = 256 * 1024;
const BATCH_FILES = 256;
/**
 * Batches handed out and not yet written: more than the pool sends each worker, so that while the
 * workers are busy the main thread deflates the next batches itself (DeflatePool.help) instead of waiting.
 */
const BATCHES_IN_FLIGHT_PER_WORKER = 4;

/**
 * Test-only: a pause after each file is written (and once before the verification), so that a
 * test can kill a pack midway at will, or see each phase's progress line.
 */
export const testPauseMs = Number(process.env.FLOTILLA_TEST_PACK_PAUSE_MS) || 0;

interface Batch {
  files: SmallFile[];
  deflated: Promise<Buffer[]>;
  done: boolean;
}

/**
 * Writes `files` into the archive in their order and returns what the manifest says of each. Small
 * files are read, checked and hashed here, and deflated on worker threads, batch after batch, while
 * the next ones are read (and here too when the workers are behind); a large file streams in
 * parallel blocks (writeLargeFile). Memory holds a few batches and blocks, whatever the domain's size.
 */
export async function writeFiles(writer: ZipWriter, files: readonly ListedFile[], onBytes: (count: number) => void, onFile: () => void): Promise<PackedFile[]> {
  const pool = new DeflatePool(DEFLATE_LEVEL);
  const maxInFlight = testPauseMs ? 0 : pool.size * BATCHES_IN_FLIGHT_PER_WORKER;
  const packed: PackedFile[] = [];
  const inFlight: Batch[] = [];
  let batch: SmallFile[] = [];
  let batchBytes = 0;

  const dispatch = () => {
    if (!batch.length) return;
    const deflated = pool.deflate(batch.map((small) => small.content));
    const dispatched: Batch = { files: batch, deflated, done: false };
    // Awaited in turn; a failure meanwhile is not unhandled.
    deflated.then(
      () => (dispatched.done = true),
      () => (dispatched.done = true),
    );
    inFlight.push(dispatched);
    batch = [];
    batchBytes = 0;
  };
  const writeOldest = async () => {
    const oldest = inFlight.shift()!;
    // Rather than wait for a worker, this thread deflates the batches none has taken yet.
    while (!oldest.done && pool.help()) await Promise.resolve();
    const { files: written, deflated } = oldest;
    const results = await deflated;
    for (const [index, small] of written.entries()) {
      const entry = chooseMethod(small.content, results[index]!);
      await writer.add(
        { name: small.file.path, mode: small.file.mode, date: new Date(small.file.mtime), method: entry.method, size: small.file.size },
        { crc32: entry.crc32, compressedSize: entry.data.length },
        [entry.data],
      );
      packed.push(small.packed);
      onBytes(small.file.size);
      onFile();
    }
  };
  const drain = async () => {
    dispatch();
    while (inFlight.length) await writeOldest();
  };

  // Reading is synchronous: a MASTER packing a boot backup must still answer meanwhile.
  const breathe = eventLoopBreather();
  let ring: BlockRing | undefined;
  try {
    for (const file of files) {
      if (file.size > BLOCK_BYTES) {
        await drain();
        packed.push(await writeLargeFile(writer, file, onBytes, (ring ??= blockRing())));
        onFile();
      } else {
        batch.push(readSmallFile(file));
        batchBytes += file.size;
        if (batchBytes >= BATCH_BYTES || batch.length >= BATCH_FILES || testPauseMs) dispatch();
      }
      while (inFlight.length > maxInFlight) await writeOldest();
      if (testPauseMs) {
        await writer.flush();
        await sleep(testPauseMs);
      }
      await breathe();
    }
    await drain();
    return packed;
  } finally {
    await pool.close();
  }
}
