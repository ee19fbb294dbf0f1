import { z } from 'zod';
import { IntegrityError } from './errors.js';
import { isValidName } from './config/names.js';
import { FILE_MODE_MASK, treeFields } from './file-entry.js';
import { MAX_RELATIVE_PATH_BYTES, refineTree, relativePathProblem } from './relative-path.js';

/**
 * The manifest of a domain backup (docs/contract.md#backups): the one file of a pack-domain archive that says
 * what every other entry must be. Writers (pack-domain, the MASTER's boot backups) and the reader
 * (unpack-domain) share this module so that they can never disagree on the format.
 */

export const BACKUP_MANIFEST_NAME = 'flotilla-backup.json';

/** Bumped on any change an older reader would misunderstand; readers refuse versions they do not know. */
export const BACKUP_FORMAT_VERSION = 2;

/** The top-level directories of a domain that a backup holds: everything else is runtime state. */
export const BACKUP_ROOTS = ['config', 'apps'] as const;

/**
 * Bounds that keep a hostile archive from exhausting memory before its content is even read. They
 * are far above any real domain (a manifest line is about 150 bytes) and writers check them too, so
 * a backup that was written can always be restored.
 */
export const BACKUP_LIMITS = {
  maxEntries: 200_000,
  maxManifestBytes: 64 * 1024 * 1024,
  maxPathBytes: MAX_RELATIVE_PATH_BYTES,
} as const;

/** Permission bits only: set-id and sticky bits have no business in a restored domain. */
export const BACKUP_MODE_MASK = FILE_MODE_MASK;

/**
 * Why `path` may not name a file in a backup, or undefined when it may. Entry paths obey the rule of
 * every relative path we receive (relativePathProblem) and lead into one of BACKUP_ROOTS: nothing a
 * restore writes can land outside the domain, whatever the archive says.
 */
export function backupPathProblem(path: string): string | undefined {
  const problem = relativePathProblem(path, 'the domain');
  if (problem) return problem;
  const slash = path.indexOf('/');
  if (slash < 0 || !(BACKUP_ROOTS as readonly string[]).includes(path.slice(0, slash))) return `is outside ${BACKUP_ROOTS.map((name) => `${name}/`).join(' and ')}`;
  return undefined;
}

/**
 * Version 2 added modification times, symbolic links (inside an application) and empty
 * directories (docs/backup.md).
 */
export const BackupManifestSchema = z
  .strictObject({
    formatVersion: z.literal(BACKUP_FORMAT_VERSION),
    domain: z.string().refine(isValidName, { error: 'must be a valid domain name' }),
    /** The MASTER's generation the backup holds; null when packed offline, where it is not known. */
    generation: z.number().int().min(0).nullable(),
    createdAt: z.iso.datetime(),
    tool: z.strictObject({ name: z.string().min(1), version: z.string().min(1) }),
    // One entry of the archive is the manifest itself.
    ...treeFields(BACKUP_LIMITS.maxEntries - 1),
  })
  .superRefine(refineTree(backupPathProblem))
  .refine((manifest) => manifest.files.length + manifest.links.length + manifest.dirs.length < BACKUP_LIMITS.maxEntries, {
    error: `a backup holds fewer than ${BACKUP_LIMITS.maxEntries} entries`,
  });

export type BackupManifest = z.output<typeof BackupManifestSchema>;
export type BackupFile = BackupManifest['files'][number];
export type BackupLink = BackupManifest['links'][number];
export type BackupDir = BackupManifest['dirs'][number];

/**
 * Parses a manifest read from `archive`; anything but a complete manifest of a known version is an
 * IntegrityError naming the archive and what is wrong with it.
 */
export function parseBackupManifest(text: string, archive: string): BackupManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new IntegrityError(`${archive}: ${BACKUP_MANIFEST_NAME} is not valid JSON (${(error as Error).message})`);
  }
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && version > BACKUP_FORMAT_VERSION) {
    throw new IntegrityError(
      `${archive}: backup format version ${version} is newer than this Flotilla understands (${BACKUP_FORMAT_VERSION}); restore it with a newer Flotilla`,
    );
  }
  const result = BackupManifestSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    const more = result.error.issues.length > 5 ? ` (and ${result.error.issues.length - 5} more)` : '';
    throw new IntegrityError(`${archive}: ${BACKUP_MANIFEST_NAME} is not a valid backup manifest: ${problems.join('; ')}${more}`);
  }
  return result.data;
}
