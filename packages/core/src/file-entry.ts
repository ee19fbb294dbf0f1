import { z } from 'zod';

/** A SHA-256 as every manifest and content request writes it. */
export const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lowercase hexadecimal characters' });

/** A byte count or a count of things: what JSON can carry exactly. */
export const SizeSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Permission bits only: set-id and sticky bits have no business in a synchronised or restored file. */
export const FILE_MODE_MASK = 0o777;

/**
 * One regular file of a tree: what sync manifests and backups both record. Its path is checked
 * with the whole list it belongs to (refinePaths in relative-path.ts), where duplicates show.
 */
export const FileEntrySchema = z.strictObject({
  /** Relative, `/`-separated. */
  path: z.string(),
  size: SizeSchema,
  mode: z.number().int().min(0).max(FILE_MODE_MASK),
  sha256: Sha256Schema,
});

export type FileEntry = z.output<typeof FileEntrySchema>;
