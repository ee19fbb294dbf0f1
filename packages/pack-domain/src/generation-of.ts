import { GENERATION_CONFIG_FILE, digestEntries, type FileEntry, type GenerationCounter } from '@flotilla/core';

/**
 * The MASTER's generation number for a set of backup entries: `counter` (config/generation.json,
 * or the MASTER's current generation) when the entries' configuration file and apps/ are exactly
 * the content it numbered, else null, the manifest's "not known". A backup never claims a
 * generation its content is not.
 */
export function generationOf(entries: readonly FileEntry[], counter: GenerationCounter | undefined): number | null {
  if (!counter) return null;
  const generationFiles = entries
    .filter((entry) => entry.path === GENERATION_CONFIG_FILE || entry.path.startsWith('apps/'))
    .map(({ path, size, mode, sha256 }) => ({ path, size, mode, sha256 }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return digestEntries(generationFiles) === counter.digest ? counter.generation : null;
}
