import { open } from 'node:fs/promises';
import { IntegrityError } from '@flotilla/core';
import { unpackMessages } from './messages.js';

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

/**
 * Reads how many entries a zip's central directory declares, from its end record alone. The zip
 * reader loads the whole central directory into memory, so the count is checked against the limit
 * first: an archive cannot make the restore allocate before it is refused.
 */
export async function declaredEntryCount(file: string, size: number): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const tailLength = Math.min(size, EOCD_SIZE + MAX_COMMENT);
    const tail = Buffer.alloc(tailLength);
    await handle.read(tail, 0, tailLength, size - tailLength);
    let at = -1;
    for (let i = tailLength - EOCD_SIZE; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
        at = i;
        break;
      }
    }
    if (at < 0) throw new IntegrityError(unpackMessages.refused(file, 'it is not a zip archive, or a truncated one (no end of central directory record)'));
    const count = tail.readUInt16LE(at + 10);
    if (count !== 0xffff && tail.readUInt32LE(at + 16) !== 0xffffffff) return count;

    // Zip64: the real count is in the zip64 end record, which a locator just before this one finds.
    if (at < 20 || tail.readUInt32LE(at - 20) !== ZIP64_LOCATOR_SIGNATURE) {
      throw new IntegrityError(unpackMessages.refused(file, 'it is not a readable zip archive (zip64 end of central directory locator missing)'));
    }
    const recordAt = Number(tail.readBigUInt64LE(at - 20 + 8));
    const record = Buffer.alloc(56);
    const { bytesRead } = await handle.read(record, 0, 56, recordAt);
    if (bytesRead < 56 || record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) {
      throw new IntegrityError(unpackMessages.refused(file, 'it is not a readable zip archive (zip64 end of central directory record missing)'));
    }
    const count64 = record.readBigUInt64LE(32);
    return count64 > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(count64);
  } finally {
    await handle.close();
  }
}
