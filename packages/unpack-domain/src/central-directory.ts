import { isUtf8 } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import type { CentralDirectoryLocation } from './zip-probe.js';

/**
 * One entry of a zip's central directory: only the fields the entry rules and the reader use. Kept
 * small on purpose, since a backup's records all live at once: with unzipper's (their name buffers,
 * comments, closures) `unpack-domain --verify` of 20 000 small files peaked at 220 MB, 185 MB with
 * these. The name's bytes are not kept: a valid UTF-8 name is its string's encoding, and an invalid
 * one is refused.
 */
export interface CentralRecord {
  /** The name, decoded as UTF-8 whatever the language-encoding flag says; a directory's ends with `/`. */
  readonly path: string;
  /** Whether the name's bytes are valid UTF-8, so that `path` encodes back to exactly them. */
  readonly nameIsUtf8: boolean;
  readonly versionMadeBy: number;
  readonly flags: number;
  readonly compressionMethod: number;
  readonly externalFileAttributes: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly offsetToLocalFileHeader: number;
}

const CENTRAL_HEADER = 0x02014b50;
const CENTRAL_HEADER_BYTES = 46;
const ZIP64_EXTRA = 0x0001;
const UINT32_MAX = 0xffffffff;
/**
 * The directory is read through a window of this size, refilled as records are parsed: memory stays
 * bounded whatever the directory's size. The largest record (three 16-bit lengths of name, extra
 * field and comment) is 46 + 3 × 65 535 bytes, so one always fits.
 */
const WINDOW_BYTES = 256 * 1024;

/**
 * Reads every record of the central directory `location` gives. Nothing in it is trusted: every
 * length and offset is checked against the directory's bounds, which lie before the end records,
 * and any inconsistency throws an Error saying what and where (the caller refuses the archive).
 */
export async function readCentralDirectory(handle: FileHandle, location: CentralDirectoryLocation): Promise<CentralRecord[]> {
  const { entries, offset, size, endRecordsAt } = location;
  if (offset + size > endRecordsAt) {
    throw new Error(`its central directory (${size} bytes at offset ${offset}) overlaps its end records at offset ${endRecordsAt}`);
  }
  // Checked before any allocation: a record takes at least 46 bytes.
  if (entries * CENTRAL_HEADER_BYTES > size) {
    throw new Error(`it declares ${entries} entries, more than its central directory of ${size} bytes can hold`);
  }
  const window = new DirectoryWindow(handle, offset, size);
  const records: CentralRecord[] = [];
  for (let index = 0; index < entries; index++) {
    const where = () => `central directory record ${index + 1} of ${entries}, at offset ${window.position}`;
    let buffer = await window.view(CENTRAL_HEADER_BYTES, where);
    let at = window.at;
    if (buffer.readUInt32LE(at) !== CENTRAL_HEADER) throw new Error(`${where()} has no central directory signature`);
    const nameLength = buffer.readUInt16LE(at + 28);
    const extraLength = buffer.readUInt16LE(at + 30);
    const commentLength = buffer.readUInt16LE(at + 32);
    const recordLength = CENTRAL_HEADER_BYTES + nameLength + extraLength + commentLength;
    buffer = await window.view(recordLength, where);
    at = window.at;
    const nameStart = at + CENTRAL_HEADER_BYTES;
    const name = buffer.subarray(nameStart, nameStart + nameLength);
    const read: RecordSizes = {
      uncompressedSize: buffer.readUInt32LE(at + 24),
      compressedSize: buffer.readUInt32LE(at + 20),
      offsetToLocalFileHeader: buffer.readUInt32LE(at + 42),
    };
    const extra = buffer.subarray(nameStart + nameLength, nameStart + nameLength + extraLength);
    const sizes = isZip64(read) ? zip64Sizes(read, extra, where) : read;
    records.push({
      // A fresh string, not a view of the window: nothing keeps the window's buffer alive.
      path: name.toString('utf8'),
      nameIsUtf8: isUtf8(name),
      versionMadeBy: buffer.readUInt16LE(at + 4),
      flags: buffer.readUInt16LE(at + 8),
      compressionMethod: buffer.readUInt16LE(at + 10),
      externalFileAttributes: buffer.readUInt32LE(at + 38),
      compressedSize: sizes.compressedSize,
      uncompressedSize: sizes.uncompressedSize,
      offsetToLocalFileHeader: sizes.offsetToLocalFileHeader,
    });
    window.advance(recordLength);
  }
  if (window.position !== offset + size) {
    throw new Error(`its central directory is ${size} bytes, but its ${entries} records take ${window.position - offset}`);
  }
  return records;
}

interface RecordSizes {
  uncompressedSize: number;
  compressedSize: number;
  offsetToLocalFileHeader: number;
}

function isZip64(fields: RecordSizes): boolean {
  return fields.uncompressedSize === UINT32_MAX || fields.compressedSize === UINT32_MAX || fields.offsetToLocalFileHeader === UINT32_MAX;
}

/**
 * The sizes and offset of a record, with those its 32-bit fields mark as too large (0xFFFFFFFF)
 * taken from the zip64 extra field: each present only when marked, in this order (APPNOTE 4.5.3).
 */
function zip64Sizes(fields: RecordSizes, extra: Buffer, where: () => string): RecordSizes {
  // The key order is the extra field's order.
  const wide = (Object.keys(fields) as (keyof RecordSizes)[]).filter((key) => fields[key] === UINT32_MAX);
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    const data = at + 4;
    if (data + length > extra.length) throw new Error(`${where()} has an extra field that runs past its record`);
    if (id === ZIP64_EXTRA) {
      if (length < 8 * wide.length) throw new Error(`${where()} has a zip64 extra field of ${length} bytes, too short for its ${wide.length} wide values`);
      const sizes = { ...fields };
      wide.forEach((key, i) => (sizes[key] = uint64(extra, data + 8 * i, where)));
      return sizes;
    }
    at = data + length;
  }
  throw new Error(`${where()} marks its ${wide.join(', ')} as zip64 but has no zip64 extra field`);
}

/** A 64-bit little-endian value, which must be exact as a JavaScript number. */
function uint64(buffer: Buffer, at: number, where: () => string): number {
  const value = buffer.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${where()} has a zip64 value of ${value}, past 2^53`);
  return Number(value);
}

/**
 * A bounded window over the central directory's bytes, read ahead in pieces of up to WINDOW_BYTES
 * and refilled from the current position when a record does not fit in what is left of it.
 */
class DirectoryWindow {
  private readonly buffer: Buffer;
  private readonly directoryEnd: number;
  /** The archive offset of the buffer's first byte. */
  private bufferStart: number;
  private filled = 0;
  /** The archive offset of the record being parsed. */
  position: number;

  constructor(
    private readonly handle: FileHandle,
    start: number,
    size: number,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.min(WINDOW_BYTES, size));
    this.directoryEnd = start + size;
    this.bufferStart = start;
    this.position = start;
  }

  /** Where the current record starts in the buffer `view` returns. */
  get at(): number {
    return this.position - this.bufferStart;
  }

  /** The buffer, holding `length` bytes from the current position (at `at`), which must lie inside the directory. */
  async view(length: number, where: () => string): Promise<Buffer> {
    if (this.position + length <= this.bufferStart + this.filled) return this.buffer;
    if (this.position + length > this.directoryEnd) throw new Error(`${where()} runs past the end of the central directory`);
    this.bufferStart = this.position;
    this.filled = 0;
    const want = Math.min(this.buffer.length, this.directoryEnd - this.position);
    while (this.filled < want) {
      const { bytesRead } = await this.handle.read(this.buffer, this.filled, want - this.filled, this.position + this.filled);
      if (bytesRead === 0) throw new Error(`${where()} runs past the end of the file (truncated?)`);
      this.filled += bytesRead;
    }
    return this.buffer;
  }

  advance(length: number): void {
    this.position += length;
  }
}
