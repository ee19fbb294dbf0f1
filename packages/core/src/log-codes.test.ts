import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@flotilla/test-support';
import { LOG_CODES } from './log-codes.js';

async function sources(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sources(path)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && entry.name !== 'log-codes.ts') found.push(path);
  }
  return found;
}

describe('log codes', () => {
  it('are each documented in docs/log-codes.md and used by the code', async () => {
    const docs = await readFile(join(repoRoot, 'docs', 'log-codes.md'), 'utf8');
    const packages = await readdir(join(repoRoot, 'packages'));
    const code = (await Promise.all(packages.flatMap(async (p) => Promise.all((await sources(join(repoRoot, 'packages', p, 'src'))).map((f) => readFile(f, 'utf8')))))).flat().join('\n');
    for (const [name, meaning] of Object.entries(LOG_CODES)) {
      expect(docs, `${name} in docs/log-codes.md`).toContain(`| ${name} | ${meaning} |`);
      expect(code, `${name} used somewhere`).toContain(`'${name}'`);
    }
  });
});
