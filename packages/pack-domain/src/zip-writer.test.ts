import { randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { tempHome } from '@flotilla/test-support';
import { BACKUP_MODE_MASK, wholeMillis } from '@flotilla/core';
import { identityOf, type ListedFile } from './collect.js';
import { writeFiles } from './archive-files.js';
import { BLOCK_BYTES } from './compress-file.js';
import { ZipWriter } from './zip-writer.js';

/** Text deflate shrinks, with matches reaching back across block boundaries. */
function text(bytes: number): Buffer {
  const lines: string[] = [];
  for (let i = 0, size = 0; size < bytes; i++) {
    const line = `${i % 977} server${i % 13} generation=${(i * 7919) % 100_000} cache sync ok\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

async function listed(dir: string, name: string, content: Buffer, mode = 0o644): Promise<ListedFile> {
  const absolute = join(dir, name);
  await writeFile(absolute, content, { mode });
  const info = await stat(absolute);
  return { path: `apps/${name}`, absolute, size: info.size, mode: info.mode & BACKUP_MODE_MASK, mtime: wholeMillis(info.mtimeMs), identity: identityOf(info) };
}

/** Writes every file into a zip the way pack-domain does: small ones batched to the workers, large ones streamed in blocks. */
async function writeZip(target: string, files: ListedFile[], zip64From?: number): Promise<void> {
  const writer = await ZipWriter.create(target, 0o600, { zip64From });
  try {
    await writeFiles(writer, files, () => {}, () => {});
    await writer.finish();
  } finally {
    await writer.close();
  }
}

describe('the zip writer', () => {
  const cases = [
    { what: 'plain zip', zip64From: undefined },
    { what: 'zip64 records for every size and offset (as past 4 GiB)', zip64From: 0 },
  ];
  for (const { what, zip64From } of cases) {
    it(`writes entries Info-ZIP reads back byte for byte: ${what}`, async () => {
      const dir = await tempHome();
      const contents = new Map<string, Buffer>([
        ['empty.txt', Buffer.alloc(0)],
        ['small.txt', text(3000)],
        ['random.bin', randomBytes(5000)],
        // Several blocks deflated in parallel, then one that is not full.
        ['large.log', text(3 * BLOCK_BYTES + 12_345)],
        // Judged incompressible by its first block: stored.
        ['large.bin', randomBytes(2 * BLOCK_BYTES + 7)],
      ]);
      const files: ListedFile[] = [];
      for (const [name, content] of contents) files.push(await listed(dir, name, content, name.endsWith('.bin') ? 0o755 : 0o644));
      const archive = join(dir, 'out.zip');
      await writeZip(archive, files, zip64From);

      const test = await execa('unzip', ['-t', archive], { reject: false });
      expect(test.exitCode, test.stdout + test.stderr).toBe(0);
      const verbose = await execa('zipinfo', ['-v', archive]);
      expect(verbose.stdout.includes('PKWARE 64-bit sizes'), 'zip64 extra fields').toBe(zip64From === 0);
      for (const [name, content] of contents) {
        const extracted = await execa('unzip', ['-p', archive, `apps/${name}`], { encoding: 'buffer', stripFinalNewline: false });
        expect(Buffer.from(extracted.stdout).equals(content), name).toBe(true);
      }
      const listing = await execa('zipinfo', [archive]);
      expect(listing.stdout).toMatch(/-rwxr-xr-x .* stor .* apps\/large\.bin/);
      expect(listing.stdout).toMatch(/-rw-r--r-- .* defN .* apps\/large\.log/);
    });
  }
});
