import { GENERATION_CONFIG_FILE, byPath, digestTree, type GenerationCounter, type TreeEntries } from '@flotilla/core/backup';

/**
 * The MASTER's generation number for a backup's tree: `counter` (config/generation.json, or the
 * MASTER's current generation) when the tree's configuration file and apps/ are exactly what it
 * numbered, else null, the manifest's "not known". A backup never claims a generation its content is not.
 */
export function generationOf(tree: TreeEntries, counter: GenerationCounter | undefined): number | null {
  if (!counter) return null;
  const inGeneration = <T extends { path: string }>(entries: readonly T[]) =>
    entries.filter((entry) => entry.path === GENERATION_CONFIG_FILE || entry.path.startsWith('apps/')).sort(byPath);
  const generation: TreeEntries = {
    files: inGeneration(tree.files).map(({ path, size, mode, mtime, sha256 }) => ({ path, size, mode, mtime, sha256 })),
    links: inGeneration(tree.links),
    dirs: inGeneration(tree.dirs),
  };
  return digestTree(generation) === counter.digest ? counter.generation : null;
}
