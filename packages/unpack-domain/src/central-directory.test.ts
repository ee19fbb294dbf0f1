import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempHome } from '@flotilla/test-support';
import { readCentralDirectory, type CentralRecord } from './central-directory.js';
import { locateCentralDirectory, type CentralDirectoryLocation } from './zip-probe.js';

const UINT32_MAX = 0xffffffff;
const GiB = 2 ** 30;

interface RecordSpec {
  name: Buffer;
  flags?: number;
  uncompressedSize: number;
  compressedSize: number;
  offset: number;
  comment?: number;
}

/** A central directory record as APPNOTE lays it out; values from 4 GiB on go to the zip64 extra field, in its order. */
function centralRecord(spec: RecordSpec): Buffer {
  const wide = [spec.uncompressedSize, spec.compressedSize, spec.offset].filter((value) => value >= UINT32_MAX);
  // An unrelated extra field first (Info-ZIP's timestamp), so that the zip64 one has to be looked for.
  const timestamp = Buffer.from([0x55, 0x54, 5, 0, 1, 0, 0, 0, 0]);
  const zip64 = Buffer.alloc(wide.length ? 4 + 8 * wide.length : 0);
  if (wide.length) {
    zip64.writeUInt16LE(0x0001, 0);
    zip64.writeUInt16LE(8 * wide.length, 2);
    wide.forEach((value, i) => zip64.writeBigUInt64LE(BigInt(value), 4 + 8 * i));
  }
  const extra = Buffer.concat([timestamp, zip64]);
  const header = Buffer.alloc(46);
  const narrow = (value: number) => Math.min(value, UINT32_MAX);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE((3 << 8) | 45, 4);
  header.writeUInt16LE(spec.flags ?? 0x800, 8);
  header.writeUInt16LE(8, 10);
  header.writeUInt32LE(narrow(spec.compressedSize), 20);
  header.writeUInt32LE(narrow(spec.uncompressedSize), 24);
  header.writeUInt16LE(spec.name.length, 28);
  header.writeUInt16LE(extra.length, 30);
  header.writeUInt16LE(spec.comment ?? 0, 32);
  header.writeUInt32LE((0o100644 << 16) >>> 0, 38);
  header.writeUInt32LE(narrow(spec.offset), 42);
  return Buffer.concat([header, spec.name, extra, Buffer.alloc(spec.comment ?? 0, 0x2a)]);
}

/** A file of `directory` at offset 0 and the end records after it, zip64 ones too when `zip64`. */
function archiveOf(directory: Buffer, entries: number, zip64: boolean): Buffer {
  const tail: Buffer[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(BigInt(entries), 32);
    record.writeBigUInt64LE(BigInt(directory.length), 40);
    record.writeBigUInt64LE(0n, 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(directory.length), 8);
    tail.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : entries, 10);
  end.writeUInt32LE(zip64 ? UINT32_MAX : directory.length, 12);
  end.writeUInt32LE(zip64 ? UINT32_MAX : 0, 16);
  return Buffer.concat([directory, ...tail, end]);
}

async function withFile<T>(bytes: Buffer, work: (file: string, size: number) => Promise<T>): Promise<T> {
  const file = join(await tempHome(), 'archive.zip');
  await writeFile(file, bytes);
  return work(file, bytes.length);
}

/** Locates and reads the central directory of `bytes`, as inspectBackup does; `adjust` changes what the end records said. */
async function read(bytes: Buffer, adjust: (location: CentralDirectoryLocation) => CentralDirectoryLocation = (location) => location): Promise<CentralRecord[]> {
  return withFile(bytes, async (file, size) => {
    const handle = await open(file, 'r');
    try {
      return await readCentralDirectory(handle, adjust(await locateCentralDirectory(handle, file, size)));
    } finally {
      await handle.close();
    }
  });
}

const sizes = (record: CentralRecord) => [record.uncompressedSize, record.compressedSize, record.offsetToLocalFileHeader];

describe('readCentralDirectory', () => {
  it('reads each record’s fields, and says whether its name is valid UTF-8 (decoded as UTF-8 whatever its flag)', async () => {
    const records = await read(
      archiveOf(
        Buffer.concat([
          centralRecord({ name: Buffer.from('apps/hello/ünïcode.js'), uncompressedSize: 12, compressedSize: 10, offset: 0 }),
          centralRecord({ name: Buffer.from('apps/plain-é.js'), flags: 0, uncompressedSize: 3, compressedSize: 5, offset: 100, comment: 7 }),
          centralRecord({ name: Buffer.from([0x61, 0x2f, 0xe9, 0x2e, 0x6a, 0x73]), flags: 0, uncompressedSize: 1, compressedSize: 1, offset: 200 }),
        ]),
        3,
        false,
      ),
    );
    expect(records.map((record) => [record.path, record.nameIsUtf8, ...sizes(record)])).toEqual([
      ['apps/hello/ünïcode.js', true, 12, 10, 0],
      ['apps/plain-é.js', true, 3, 5, 100],
      ['a/\ufffd.js', false, 1, 1, 200],
    ]);
    expect(records[0]).toMatchObject({ versionMadeBy: (3 << 8) | 45, flags: 0x800, compressionMethod: 8, externalFileAttributes: (0o100644 << 16) >>> 0 });
  });

  it('takes from the zip64 extra field only the values marked as wide, in APPNOTE’s order, and finds the directory through the zip64 end record', async () => {
    const records = await read(
      archiveOf(
        Buffer.concat([
          centralRecord({ name: Buffer.from('all-wide'), uncompressedSize: 6 * GiB, compressedSize: 5 * GiB, offset: 7 * GiB }),
          centralRecord({ name: Buffer.from('offset-wide'), uncompressedSize: 20, compressedSize: 30, offset: 9 * GiB }),
          centralRecord({ name: Buffer.from('compressed-wide'), uncompressedSize: 40, compressedSize: 4 * GiB, offset: 50 }),
        ]),
        3,
        true,
      ),
    );
    expect(records.map((record) => [record.path, ...sizes(record)])).toEqual([
      ['all-wide', 6 * GiB, 5 * GiB, 7 * GiB],
      ['offset-wide', 20, 30, 9 * GiB],
      ['compressed-wide', 40, 4 * GiB, 50],
    ]);
  });

  it('reads a directory several windows long, records straddling the windows’ edges', async () => {
    const specs = Array.from({ length: 5000 }, (_, i) => ({ name: Buffer.from(`apps/data/src/m${i}/${'x'.repeat(i % 90)}.js`), uncompressedSize: i, compressedSize: i + 1, offset: i * 3, comment: i % 7 }));
    const directory = Buffer.concat(specs.map(centralRecord));
    expect(directory.length).toBeGreaterThan(2 * 256 * 1024);
    const records = await read(archiveOf(directory, specs.length, false));
    expect(records.map((record) => [record.path, ...sizes(record)])).toEqual(specs.map((spec) => [spec.name.toString(), spec.uncompressedSize, spec.compressedSize, spec.offset]));
  });

  describe('refuses a directory that does not hold what its end records declare, with an Error saying where', () => {
    const two = Buffer.concat([
      centralRecord({ name: Buffer.from('first'), uncompressedSize: 1, compressedSize: 1, offset: 0 }),
      centralRecord({ name: Buffer.from('second'), uncompressedSize: 6 * GiB, compressedSize: 5 * GiB, offset: 0 }),
    ]);
    const firstLength = 46 + 5 + 9;

    it('a record without its signature (garbage)', async () => {
      const garbage = Buffer.from(two);
      garbage.write('junk', firstLength);
      await expect(read(archiveOf(garbage, 2, false))).rejects.toThrow(`central directory record 2 of 2, at offset ${firstLength} has no central directory signature`);
    });

    it('records that run past the directory’s declared size, or fewer bytes of records than it', async () => {
      await expect(read(archiveOf(two, 2, false), (location) => ({ ...location, size: location.size - 1 }))).rejects.toThrow('record 2 of 2, at offset 60 runs past the end of the central directory');
      await expect(read(archiveOf(two, 1, false))).rejects.toThrow(`its central directory is ${two.length} bytes, but its 1 records take ${firstLength}`);
    });

    it('more entries than the directory could hold, before reading it', async () => {
      await expect(read(archiveOf(two, 60_000, false))).rejects.toThrow(`it declares 60000 entries, more than its central directory of ${two.length} bytes can hold`);
    });

    it('a directory that overlaps its end records, or a file cut short', async () => {
      await expect(read(archiveOf(two, 2, false), (location) => ({ ...location, offset: 30 }))).rejects.toThrow(`its central directory (${two.length} bytes at offset 30) overlaps its end records at offset ${two.length}`);
      await expect(read(archiveOf(two, 2, false), (location) => ({ ...location, offset: 100_000, endRecordsAt: 1e9 }))).rejects.toThrow('record 1 of 2, at offset 100000 runs past the end of the file (truncated?)');
    });

    it('a value marked as zip64 with no zip64 extra field, too short a one, or an extra field past its record', async () => {
      const noExtra = Buffer.from(two);
      noExtra.writeUInt16LE(0x9999, firstLength + 46 + 6 + 9);
      await expect(read(archiveOf(noExtra, 2, false))).rejects.toThrow('record 2 of 2, at offset 60 marks its uncompressedSize, compressedSize as zip64 but has no zip64 extra field');
      const short = Buffer.from(two);
      short.writeUInt16LE(8, firstLength + 46 + 6 + 9 + 2);
      await expect(read(archiveOf(short, 2, false))).rejects.toThrow('has a zip64 extra field of 8 bytes, too short for its 2 wide values');
      const long = Buffer.from(two);
      long.writeUInt16LE(200, firstLength + 46 + 6 + 9 + 2);
      await expect(read(archiveOf(long, 2, false))).rejects.toThrow('has an extra field that runs past its record');
    });

    it('any byte of it changed: an error of ours or a directory read, never a crash', async () => {
      const archive = archiveOf(two, 2, true);
      for (let at = 0; at < two.length; at++) {
        for (const value of [0x00, 0xff, 0x7f]) {
          const changed = Buffer.from(archive);
          changed[at] = value;
          const outcome = await read(changed).catch((error: Error) => error);
          if (outcome instanceof Error) {
            expect(outcome, `byte ${at} set to ${value}`).not.toBeInstanceOf(RangeError);
            expect(outcome.message).toMatch(/central directory|zip64/);
          }
        }
      }
    });
  });
});
