import type { FileHandle } from 'node:fs/promises';
import { IntegrityError } from '@flotilla/core/backup';
import { unpackMessages } from './messages.js';

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const MAX_COMMENT = 0xffff;

/** Where a zip's central directory lies, as its end records declare it (nothing checked yet). */
export interface CentralDirectoryLocation {
  /** How many entries it declares. */
  entries: number;
  offset: number;
  size: number;
  /** Where the end records start (the zip64 one's when there is one): the directory must end by then. */
  endRecordsAt: number;
}

/**
 * Reads where a zip's central directory is and how many entries it declares, from its end records
 * alone. The count is known before a byte of the directory is read: an archive can be refused for
 * it before it makes the restore allocate anything.
 */
export async function locateCentralDirectory(handle: FileHandle, file: string, size: number): Promise<CentralDirectoryLocation> {
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
  const directorySize = tail.readUInt32LE(at + 12);
  const directoryOffset = tail.readUInt32LE(at + 16);
  if (count !== 0xffff && directorySize !== 0xffffffff && directoryOffset !== 0xffffffff) {
    return { entries: count, offset: directoryOffset, size: directorySize, endRecordsAt: size - tailLength + at };
  }

  // Zip64: the real values are in the zip64 end record, which a locator just before this one finds.
  const locatorAt = at - ZIP64_LOCATOR_SIZE;
  if (locatorAt < 0 || tail.readUInt32LE(locatorAt) !== ZIP64_LOCATOR_SIGNATURE) {
    throw new IntegrityError(unpackMessages.unreadableZip(file, 'zip64 end of central directory locator missing'));
  }
  const recordAt = tail.readBigUInt64LE(locatorAt + 8);
  // The record must lie before its locator.
  if (recordAt + BigInt(ZIP64_EOCD_SIZE) > BigInt(size - tailLength + locatorAt)) {
    throw new IntegrityError(unpackMessages.unreadableZip(file, 'zip64 end of central directory record missing'));
  }
  const record = Buffer.alloc(ZIP64_EOCD_SIZE);
  const { bytesRead } = await handle.read(record, 0, ZIP64_EOCD_SIZE, Number(recordAt));
  if (bytesRead < ZIP64_EOCD_SIZE || record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) {
    throw new IntegrityError(unpackMessages.unreadableZip(file, 'zip64 end of central directory record missing'));
  }
  // Past the file's size (the count: past the entry limit) the values are impossible, and refused as such.
  const clamp = (value: bigint) => (value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value));
  return {
    entries: clamp(record.readBigUInt64LE(32)),
    size: clamp(record.readBigUInt64LE(40)),
    offset: clamp(record.readBigUInt64LE(48)),
    endRecordsAt: Number(recordAt),
  };
}
