import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { killPid, repoRoot, tempHome, waitFor } from '@flotilla/test-support';
import { execa } from 'execa';
import { writeFileAtomic } from './atomic-file.js';

const distUrl = pathToFileURL(join(repoRoot, 'packages/core/dist/atomic-file.js')).href;

/**
 * The writer writes self-checking files (a hash line, then a body of varying size up to 2 MB) in a
 * tight loop; whatever instant it is killed at, the file must hold one whole version.
 */
const writer = `
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '${distUrl}';
const target = process.argv[1];
for (let n = 1; ; n++) {
  const body = String(n).repeat(1 + (n * 7919) % 250_000);
  const hash = createHash('sha256').update(body).digest('hex');
  await writeFileAtomic(target, hash + '\\n' + body);
  process.stdout.write(n + '\\n');
}
`;

function checkWhole(text: string): void {
  const newline = text.indexOf('\n');
  expect(newline, 'file has its header line').toBeGreaterThan(0);
  const body = text.slice(newline + 1);
  expect(createHash('sha256').update(body).digest('hex')).toBe(text.slice(0, newline));
}

describe('writeFileAtomic', () => {
  it('never leaves a truncated or empty file when the writer is SIGKILLed', async () => {
    const dir = await tempHome();
    const target = join(dir, 'state.json');
    for (let round = 0; round < 15; round++) {
      const child = execa(process.execPath, ['--input-type=module', '-e', writer, target], { reject: false, buffer: false });
      let writes = 0;
      child.stdout!.on('data', (chunk: Buffer) => {
        writes += chunk.toString().split('\n').length - 1;
      });
      const wanted = 1 + Math.floor(Math.random() * 20);
      try {
        await waitFor(`${wanted} writes`, () => writes >= wanted, 30_000, 5);
      } finally {
        killPid(child.pid);
        await child;
      }
      checkWhole(await readFile(target, 'utf8'));
    }
    // Killed writers may leave their temporary files, never a broken target.
    const leftovers = (await readdir(dir)).filter((name) => name !== 'state.json');
    expect(leftovers.every((name) => name.startsWith('.state.json.') && name.endsWith('.tmp'))).toBe(true);
  });

  it('replaces the file and applies the requested mode', async () => {
    const dir = await tempHome();
    const target = join(dir, 'secret');
    await writeFileAtomic(target, 'one');
    await writeFileAtomic(target, 'two', { mode: 0o600 });
    expect(await readFile(target, 'utf8')).toBe('two');
    const { stat } = await import('node:fs/promises');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['secret']);
  });

  it('fails with the path in the error when the directory does not exist, leaving nothing', async () => {
    const dir = await tempHome();
    await expect(writeFileAtomic(join(dir, 'missing', 'file'), 'x')).rejects.toThrow(/missing/);
    expect(await readdir(dir)).toEqual([]);
  });
});

