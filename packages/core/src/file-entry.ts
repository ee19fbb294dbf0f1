import { z } from 'zod';

/** A SHA-256 as every manifest and content request writes it. */
export const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lowercase hexadecimal characters' });

/** A byte count or a count of things: what JSON can carry exactly. */
export const SizeSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Permission bits only: set-id and sticky bits have no business in a synchronised or restored file. */
export const FILE_MODE_MASK = 0o777;

/** A modification time in whole milliseconds since 1970 (JavaScript's Date range), as deploy found it. */
export const MtimeSchema = z.number().int().min(-8.64e15).max(8.64e15);

/** Link targets are short relative paths (`../mime/cli.js`); this bounds what a hostile one may hold. */
export const MAX_LINK_TARGET_BYTES = 1024;

/**
 * One regular file of a tree: what sync manifests and backups both record. Its path is checked
 * with the whole tree it belongs to (refineTree in relative-path.ts), where duplicates show.
 */
export const FileEntrySchema = z.strictObject({
  /** Relative, `/`-separated. */
  path: z.string(),
  size: SizeSchema,
  mode: z.number().int().min(0).max(FILE_MODE_MASK),
  mtime: MtimeSchema,
  sha256: Sha256Schema,
});
export type FileEntry = z.output<typeof FileEntrySchema>;

/**
 * A relative symbolic link inside an application (`node_modules/.bin/mime` → `../mime/cli.js`),
 * kept as a link. Its target is checked with the tree (linkTargetProblem): it stays inside the
 * application whatever the links around it are.
 */
export const LinkEntrySchema = z.strictObject({
  path: z.string(),
  target: z.string().max(MAX_LINK_TARGET_BYTES),
});
export type LinkEntry = z.output<typeof LinkEntrySchema>;

/** An empty directory: every other one is implied by the paths below it. */
export const DirEntrySchema = z.strictObject({
  path: z.string(),
  mode: z.number().int().min(0).max(FILE_MODE_MASK),
  mtime: MtimeSchema,
});
export type DirEntry = z.output<typeof DirEntrySchema>;

/** What a tree (a generation, a backup) holds besides the files: links and empty directories. */
export interface TreeEntries {
  files: FileEntry[];
  links: LinkEntry[];
  dirs: DirEntry[];
}

/**
 * The time to give a file (utimes, in seconds) so that it reads back as `mtime` through wholeMillis:
 * the middle of its millisecond. `mtime / 1000` is a double that may land just below the millisecond
 * (a nanosecond short), and a restored or synchronised file then scans one millisecond older than
 * its manifest says, which counts as a change.
 */
export function fileTimeSeconds(mtime: number): number {
  return (mtime + 0.5) / 1000;
}

/** A file time as manifests record it (mtimeMs carries sub-millisecond digits). */
export function wholeMillis(mtimeMs: number): number {
  return Math.floor(mtimeMs);
}

/** The three lists of a tree as schema fields, each bounded by `maxEntries`; checked whole with refineTree. */
export function treeFields(maxEntries: number) {
  return {
    files: z.array(FileEntrySchema).max(maxEntries),
    links: z.array(LinkEntrySchema).max(maxEntries),
    dirs: z.array(DirEntrySchema).max(maxEntries),
  };
}
