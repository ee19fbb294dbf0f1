import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempHome } from '@flotilla/test-support';
import { sha256File } from './file-tree.js';

describe('sha256File', () => {
  it('hashes empty, small and multi-megabyte files, many at once, as a one-shot hash would', async () => {
    const dir = await tempHome();
    // More files than shared read buffers, and sizes on either side of a read's megabyte.
    const contents = [Buffer.alloc(0), Buffer.from('hello\n'), randomBytes(1024 * 1024), randomBytes(2 * 1024 * 1024 + 7), ...Array.from({ length: 20 }, (_, i) => randomBytes(300_000 + i))];
    await Promise.all(contents.map((data, i) => writeFile(join(dir, `f${i}`), data)));
    const hashes = await Promise.all(contents.map((_, i) => sha256File(join(dir, `f${i}`))));
    expect(hashes).toEqual(contents.map((data) => createHash('sha256').update(data).digest('hex')));
  });

  it('fails on a file that is not there, naming it', async () => {
    await expect(sha256File(join(await tempHome(), 'gone'))).rejects.toMatchObject({ code: 'ENOENT', path: expect.stringContaining('gone') });
  });
});
