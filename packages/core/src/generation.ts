import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file.js';
import type { FileEntry } from './file-entry.js';
import { scanTree } from './file-tree.js';
import { GENERATION_CONFIG_FILE } from './protocol/sync.js';

/**
 * Files being written (writeFileAtomic's `.name.<pid>.<hex>.tmp`, a deploy's staging) belong to no
 * generation and no backup. Other dotfiles (an app's `.env`) are content like any other.
 */
export function isTransientFile(relativePath: string): boolean {
  const name = relativePath.slice(relativePath.lastIndexOf('/') + 1);
  return name.startsWith('.') && name.endsWith('.tmp');
}

/** The files of a domain directory that make up a generation: its configuration and apps/. */
export function scanGeneration(domainDir: string, hashCache?: Map<string, string>): Promise<FileEntry[]> {
  return scanTree(domainDir, [GENERATION_CONFIG_FILE, 'apps'], { exclude: isTransientFile, hashCache });
}

/**
 * `config/generation.json`: the MASTER's generation counter and the digest it numbered. It lives
 * in config/ so that a backup carries it and a restored MASTER goes on counting where it stopped.
 */
export interface GenerationCounter {
  generation: number;
  digest: string;
}

export async function readGenerationFile(path: string): Promise<GenerationCounter | undefined> {
  try {
    const stored = JSON.parse(await readFile(path, 'utf8')) as GenerationCounter;
    return Number.isInteger(stored.generation) && typeof stored.digest === 'string' ? stored : undefined;
  } catch {
    return undefined; // a new or hand-made domain has no counter yet: it starts one
  }
}

export async function writeGenerationFile(path: string, counter: GenerationCounter): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(counter)}\n`);
}

/** The number for a digest: the stored one while the files are what it numbered, else the next. */
export function numberGeneration(stored: GenerationCounter | undefined, digest: string): number {
  return stored?.digest === digest ? stored.generation : (stored?.generation ?? 0) + 1;
}
