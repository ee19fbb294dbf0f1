import type { z } from 'zod';

/**
 * The rule for every relative path a peer or an archive hands us (backup entries, generation
 * manifests): whatever the sender says, a path joined to its root stays below it. One rule, so the
 * sync and the restore can never disagree on what is safe.
 */

/** Far above any real application file, low enough that a hostile list cannot hold huge strings. */
export const MAX_RELATIVE_PATH_BYTES = 1024;

/**
 * Why `path` is not a plain relative `/`-separated file path inside `root` (a word for messages:
 * "the domain", "the cache"), or undefined when it is.
 */
export function relativePathProblem(path: string, root: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (Buffer.byteLength(path) > MAX_RELATIVE_PATH_BYTES) return `is longer than ${MAX_RELATIVE_PATH_BYTES} bytes`;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is absolute';
  if (path.includes('\\')) return 'contains a backslash';
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character';
  const parts = path.split('/');
  if (parts.some((part) => part === '..')) return `contains ".." and would leave ${root}`;
  if (parts.some((part) => part === '' || part === '.')) return 'has an empty or "." segment (not a plain relative file path)';
  return undefined;
}

/**
 * Checks the paths of a whole list in one pass (zod `superRefine`): each obeys `problemOf`, none is
 * listed twice. One pass rather than a refinement per entry: zod runs that much slower (20 000
 * entries: 145 ms against 80 ms).
 */
export function refinePaths(problemOf: (path: string) => string | undefined) {
  return (entries: ReadonlyArray<{ path: string }>, context: z.RefinementCtx): void => {
    const seen = new Set<string>();
    for (const [index, entry] of entries.entries()) {
      const problem = problemOf(entry.path);
      if (problem) context.addIssue({ code: 'custom', path: [index, 'path'], message: `path ${quoteClipped(entry.path)} ${problem}` });
      else if (seen.has(entry.path)) context.addIssue({ code: 'custom', path: [index, 'path'], message: `${entry.path} is listed twice` });
      seen.add(entry.path);
    }
  };
}

/** A path as messages show it: quoted, and cut short when a hostile one is kilobytes long. */
function quoteClipped(path: string): string {
  const shown = path.length > 120 ? `${path.slice(0, 120)}…` : path;
  return JSON.stringify(shown);
}
