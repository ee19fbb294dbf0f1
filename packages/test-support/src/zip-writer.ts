/**
 * Test-only: writes zip archives byte by byte, so that tests can build the hostile archives no
 * well-behaved zip tool would produce (lying sizes, links, duplicates, paths that leave the domain).
 */
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';

export interface RawEntry {
  name: string;
  data: Buffer;
  /** 0 stored, 8 deflated (default). */
  method?: 0 | 8;
  /** Full Unix mode, type bits included (default: regular file 0644). */
  unixMode?: number;
  /** Uncompressed size written in the headers (default: the data's real size). */
  declaredSize?: number;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function buildZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const method = entry.method ?? 8;
    const body = method === 8 ? deflateRawSync(entry.data) : entry.data;
    const crc = crc32(entry.data);
    const size = entry.declaredSize ?? entry.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.unixMode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

export interface BackupFileSpec {
  path: string;
  data: Buffer;
  mode?: number;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A manifest describing `files` (and `links`) as pack-domain would. */
export function manifestFor(
  domain: string,
  files: BackupFileSpec[],
  links: Array<{ path: string; target: string }> = [],
): Record<string, unknown> & { files: Array<Record<string, unknown>> } {
  return {
    formatVersion: 2,
    domain,
    generation: null,
    createdAt: new Date().toISOString(),
    tool: { name: 'test', version: '0' },
    files: files.map((file) => ({ path: file.path, size: file.data.length, mode: file.mode ?? 0o644, mtime: 1_700_000_000_000, sha256: sha256(file.data) })),
    links,
    dirs: [],
  };
}

export function manifestEntry(manifest: object): RawEntry {
  return { name: 'flotilla-backup.json', data: Buffer.from(JSON.stringify(manifest)) };
}
