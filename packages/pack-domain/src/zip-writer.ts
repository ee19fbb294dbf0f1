import { open, type FileHandle } from 'node:fs/promises';

/**
 * A zip file written entry by entry (PKWARE APPNOTE 6.3): local header and data in turn, then the
 * central directory. It only lays out bytes: what goes in, compressed or not, is the caller's
 * business. Sizes and offsets past 4 GiB, and more than 65 535 entries, take the zip64 records, so
 * a domain of any size stays one archive that Info-ZIP and every other reader accept.
 */

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;
export type ZipMethod = typeof METHOD_STORED | typeof METHOD_DEFLATED;

/** What an entry is on Unix: Info-ZIP's unzip restores links as links and directory entries as directories. */
export type ZipEntryKind = 'file' | 'link' | 'dir';

export interface ZipEntryStart {
  /** `/`-separated, UTF-8; a directory's ends with `/`. */
  name: string;
  /** Permission bits; the entry is recorded as a Unix file of `kind` (a regular file by default). */
  mode: number;
  kind?: ZipEntryKind;
  /** The entry's modification time: in the DOS fields, and to the second in an extended timestamp field. */
  date: Date;
  method: ZipMethod;
  /** Uncompressed size: known before the data, so that the local header can make room for zip64. */
  size: number;
}

export interface ZipEntryEnd {
  crc32: number;
  compressedSize: number;
}

export interface ZipWriterOptions {
  /** Sizes and offsets from this value on use zip64 fields. Lowered only by tests. */
  zip64From?: number;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL = 0x06054b50;
const ZIP64_END_OF_CENTRAL = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EXTRA = 0x0001;
/** Info-ZIP's extended timestamp ("UT"): the modification time as Unix seconds, in UTC. */
const TIMESTAMP_EXTRA = 0x5455;
const TIMESTAMP_EXTRA_BYTES = 9;
const TIMESTAMP_HAS_MTIME = 1;
const UINT32_MAX = 0xffffffff;
const UINT16_MAX = 0xffff;
/** Version 2.0 (deflate) or 4.5 (zip64), made on Unix (3): the host that gives external attributes their meaning. */
const VERSION_DEFLATE = 20;
const VERSION_ZIP64 = 45;
const MADE_ON_UNIX = 3 << 8;
const FLAG_UTF8_NAME = 0x0800;
const FILE_TYPE_BITS: Record<ZipEntryKind, number> = { file: 0o100000, link: 0o120000, dir: 0o040000 };

interface CentralRecord extends ZipEntryStart, ZipEntryEnd {
  /**
   * The name's UTF-8 length; the bytes are written from the string each time. A small Buffer kept
   * per entry would be a view of Node's shared 8 KiB pool and keep alive all it holds, file
   * contents included: 20 000 entries kept 100 MB.
   */
  nameLength: number;
  offset: number;
}

/** Small entries are gathered up to this many bytes and written in one call. */
const WRITE_BATCH_BYTES = 1024 * 1024;
/**
 * What a batch is copied into before it is written: the batch, plus the entry of up to one block
 * (and its header) that made it overflow. Once and for all, rather than a fresh buffer per batch:
 * those would pile up unreachable to V8's external-memory threshold (64 MB) before a collection.
 */
const STAGING_BYTES = 2 * WRITE_BATCH_BYTES + 128 * 1024;

export class ZipWriter {
  /** Bytes of the archive so far, written or still pending. */
  private offset = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly records: CentralRecord[] = [];
  private readonly zip64From: number;
  private staging: Buffer | undefined;

  private constructor(
    private readonly handle: FileHandle,
    options: ZipWriterOptions,
  ) {
    this.zip64From = options.zip64From ?? UINT32_MAX;
  }

  /** Creates `path` (it must not exist) with `mode`. */
  static async create(path: string, mode: number, options: ZipWriterOptions = {}): Promise<ZipWriter> {
    return new ZipWriter(await open(path, 'wx', mode), options);
  }

  /** Bytes written so far. */
  get size(): number {
    return this.offset;
  }

  /** One entry whose data is all known; written with the next ones, once they fill a batch. */
  async add(start: ZipEntryStart, end: ZipEntryEnd, data: readonly Buffer[]): Promise<void> {
    const record = this.record(start, end);
    this.queue([this.localHeader(record), ...data]);
    if (this.pendingBytes >= WRITE_BATCH_BYTES) await this.flush();
  }

  /**
   * Starts an entry whose data follows in pieces (`write`), its CRC and compressed size known only
   * at `end`, which fills them into the header already written.
   */
  async begin(start: ZipEntryStart): Promise<{ write(data: Buffer): Promise<void>; end(end: ZipEntryEnd): Promise<void> }> {
    const record = this.record(start, { crc32: 0, compressedSize: 0 });
    this.queue([this.localHeader(record)]);
    await this.flush();
    return {
      write: async (data) => {
        this.queue([data]);
        await this.flush();
      },
      end: async ({ crc32, compressedSize }) => {
        record.crc32 = crc32;
        record.compressedSize = compressedSize;
        const header = this.localHeader(record);
        await this.handle.write(header, 0, header.length, record.offset);
      },
    };
  }

  /** Writes the central directory and the end records; the file is complete but not yet fsynced. */
  async finish(): Promise<void> {
    const centralStart = this.offset;
    const central = this.records.map((record) => this.centralHeader(record));
    const centralSize = central.reduce((sum, header) => sum + header.length, 0);
    const count = this.records.length;
    const tail: Buffer[] = [];
    const zip64 = count >= UINT16_MAX || !this.fits(centralStart) || !this.fits(centralSize) || !this.fits(centralStart + centralSize);
    if (zip64) {
      const endAt = centralStart + centralSize;
      const end64 = Buffer.alloc(56);
      end64.writeUInt32LE(ZIP64_END_OF_CENTRAL, 0);
      end64.writeBigUInt64LE(44n, 4); // the record's size after this field
      end64.writeUInt16LE(MADE_ON_UNIX | VERSION_ZIP64, 12);
      end64.writeUInt16LE(VERSION_ZIP64, 14);
      end64.writeBigUInt64LE(BigInt(count), 24);
      end64.writeBigUInt64LE(BigInt(count), 32);
      end64.writeBigUInt64LE(BigInt(centralSize), 40);
      end64.writeBigUInt64LE(BigInt(centralStart), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(ZIP64_LOCATOR, 0);
      locator.writeBigUInt64LE(BigInt(endAt), 8);
      locator.writeUInt32LE(1, 16);
      tail.push(end64, locator);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END_OF_CENTRAL, 0);
    end.writeUInt16LE(zip64 ? UINT16_MAX : count, 8);
    end.writeUInt16LE(zip64 ? UINT16_MAX : count, 10);
    end.writeUInt32LE(zip64 ? UINT32_MAX : centralSize, 12);
    end.writeUInt32LE(zip64 ? UINT32_MAX : centralStart, 16);
    tail.push(end);
    this.queue([...central, ...tail]);
    await this.flush();
  }

  async sync(): Promise<void> {
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private record(start: ZipEntryStart, end: ZipEntryEnd): CentralRecord {
    // Field by field rather than spread: one object shape for every record, which the header
    // writers read quickly (2 600 entries: 100-190 ms to add and finish with spread records, 25-35 ms so).
    const record: CentralRecord = {
      name: start.name,
      mode: start.mode,
      kind: start.kind ?? 'file',
      date: start.date,
      method: start.method,
      size: start.size,
      crc32: end.crc32,
      compressedSize: end.compressedSize,
      nameLength: Buffer.byteLength(start.name, 'utf8'),
      offset: this.offset,
    };
    this.records.push(record);
    return record;
  }

  private queue(pieces: Buffer[]): void {
    for (const piece of pieces) {
      this.pending.push(piece);
      this.pendingBytes += piece.length;
      this.offset += piece.length;
    }
  }

  /**
   * Writes what is queued, in one piece: a batch of small entries is a few hundred buffers, copied
   * into the staging buffer (larger batches, such as a central directory, into one of their own);
   * a single piece, such as a block of a large file, is written as it is.
   */
  async flush(): Promise<void> {
    if (!this.pending.length) return;
    const batch = this.pending.length === 1 ? this.pending[0]! : this.joinPending();
    const position = this.offset - this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    for (let written = 0; written < batch.length; ) {
      written += (await this.handle.write(batch, written, batch.length - written, position + written)).bytesWritten;
    }
  }

  private joinPending(): Buffer {
    if (this.pendingBytes > STAGING_BYTES) return Buffer.concat(this.pending, this.pendingBytes);
    this.staging ??= Buffer.allocUnsafeSlow(STAGING_BYTES);
    let at = 0;
    for (const piece of this.pending) at += piece.copy(this.staging, at);
    return this.staging.subarray(0, at);
  }

  private fits(value: number): boolean {
    return value < this.zip64From;
  }

  /**
   * Whether an entry's local header carries zip64 sizes. Decided from the uncompressed size alone,
   * before the data exists: deflate can grow incompressible data a little, hence the margin.
   */
  private localZip64(record: CentralRecord): boolean {
    return !this.fits(record.size + Math.ceil(record.size / 256) + 4096);
  }

  private localHeader(record: CentralRecord): Buffer {
    const zip64 = this.localZip64(record);
    const extraLength = (zip64 ? 20 : 0) + TIMESTAMP_EXTRA_BYTES;
    const header = Buffer.alloc(30 + record.nameLength + extraLength);
    header.writeUInt32LE(LOCAL_HEADER, 0);
    header.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_DEFLATE, 4);
    header.writeUInt16LE(FLAG_UTF8_NAME, 6);
    header.writeUInt16LE(record.method, 8);
    writeDosDateTime(header, 10, record.date);
    header.writeUInt32LE(record.crc32 >>> 0, 14);
    header.writeUInt32LE(zip64 ? UINT32_MAX : record.compressedSize, 18);
    header.writeUInt32LE(zip64 ? UINT32_MAX : record.size, 22);
    header.writeUInt16LE(record.nameLength, 26);
    header.writeUInt16LE(extraLength, 28);
    header.write(record.name, 30, 'utf8');
    let at = 30 + record.nameLength;
    if (zip64) {
      header.writeUInt16LE(ZIP64_EXTRA, at);
      header.writeUInt16LE(16, at + 2);
      header.writeBigUInt64LE(BigInt(record.size), at + 4);
      header.writeBigUInt64LE(BigInt(record.compressedSize), at + 12);
      at += 20;
    }
    writeTimestamp(header, at, record.date);
    return header;
  }

  private centralHeader(record: CentralRecord): Buffer {
    // Only the fields that overflow go to the zip64 extra field, in the order APPNOTE 4.5.3 gives.
    const wide = [record.size, record.compressedSize, record.offset].map((value) => !this.fits(value));
    const extra: bigint[] = [];
    if (wide[0]) extra.push(BigInt(record.size));
    if (wide[1]) extra.push(BigInt(record.compressedSize));
    if (wide[2]) extra.push(BigInt(record.offset));
    const extraLength = (extra.length ? 4 + 8 * extra.length : 0) + TIMESTAMP_EXTRA_BYTES;
    const version = extra.length || this.localZip64(record) ? VERSION_ZIP64 : VERSION_DEFLATE;
    const header = Buffer.alloc(46 + record.nameLength + extraLength);
    header.writeUInt32LE(CENTRAL_HEADER, 0);
    header.writeUInt16LE(MADE_ON_UNIX | version, 4);
    header.writeUInt16LE(version, 6);
    header.writeUInt16LE(FLAG_UTF8_NAME, 8);
    header.writeUInt16LE(record.method, 10);
    writeDosDateTime(header, 12, record.date);
    header.writeUInt32LE(record.crc32 >>> 0, 16);
    header.writeUInt32LE(wide[1] ? UINT32_MAX : record.compressedSize, 20);
    header.writeUInt32LE(wide[0] ? UINT32_MAX : record.size, 24);
    header.writeUInt16LE(record.nameLength, 28);
    header.writeUInt16LE(extraLength, 30);
    header.writeUInt32LE(((FILE_TYPE_BITS[record.kind ?? 'file'] | record.mode) << 16) >>> 0, 38);
    header.writeUInt32LE(wide[2] ? UINT32_MAX : record.offset, 42);
    header.write(record.name, 46, 'utf8');
    let at = 46 + record.nameLength;
    if (extra.length) {
      header.writeUInt16LE(ZIP64_EXTRA, at);
      header.writeUInt16LE(8 * extra.length, at + 2);
      at += 4;
      for (const value of extra) {
        header.writeBigUInt64LE(value, at);
        at += 8;
      }
    }
    writeTimestamp(header, at, record.date);
    return header;
  }
}

/** MS-DOS date and time, in local time as zip tools show them, from 1980 (the format's epoch). */
function writeDosDateTime(buffer: Buffer, at: number, date: Date): void {
  const year = Math.max(date.getFullYear(), 1980);
  buffer.writeUInt16LE((date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1), at);
  buffer.writeUInt16LE(((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(), at + 2);
}

/** The extended timestamp field (the same in local and central headers when it holds the mtime only). */
function writeTimestamp(buffer: Buffer, at: number, date: Date): void {
  buffer.writeUInt16LE(TIMESTAMP_EXTRA, at);
  buffer.writeUInt16LE(TIMESTAMP_EXTRA_BYTES - 4, at + 2);
  buffer.writeUInt8(TIMESTAMP_HAS_MTIME, at + 4);
  // The field holds signed 32-bit seconds: times outside them (before 1970, after 2038) keep only the DOS fields' meaning.
  buffer.writeUInt32LE(Math.min(Math.max(Math.floor(date.getTime() / 1000), 0), 0x7fffffff), at + 5);
}
