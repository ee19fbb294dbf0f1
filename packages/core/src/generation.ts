import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file.js';
import { Sha256Schema, type TreeEntries } from './file-entry.js';
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

/** The tree of a domain directory that makes up a generation: its configuration and apps/. */
export function scanGeneration(domainDir: string, hashCache?: Map<string, string>): Promise<TreeEntries> {
  return scanTree(domainDir, [GENERATION_CONFIG_FILE, 'apps'], { exclude: isTransientFile, hashCache });
}

/**
 * `config/generation.json`: the MASTER's generation counter and the digest it numbered. It lives
 * in config/ so that a backup carries it and a restored MASTER goes on counting where it stopped.
 */
const GenerationCounterSchema = z.strictObject({ generation: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), digest: Sha256Schema });
export type GenerationCounter = z.output<typeof GenerationCounterSchema>;

export async function readGenerationFile(path: string): Promise<GenerationCounter | undefined> {
  // A new or hand-made domain has no counter yet, and one that is not a counter counts for none: it starts one.
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return GenerationCounterSchema.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

export async function writeGenerationFile(path: string, counter: GenerationCounter): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(counter)}\n`);
}

/** The number for a digest: the stored one while the files are what it numbered, else the next. */
export function numberGeneration(stored: GenerationCounter | undefined, digest: string): number {
  return stored?.digest === digest ? stored.generation : (stored?.generation ?? 0) + 1;
}
