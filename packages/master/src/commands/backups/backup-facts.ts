import { stat } from 'node:fs/promises';
import { IntegrityError, type ProgressCounts } from '@flotilla/core';
import { checkBackup, inspectBackup, isAgeFile } from '@flotilla/unpack-domain';
import { bootBackupTime } from '../../server/backup/boot-names.js';

/** One backup as `master backups` lists it (`--json`: one element of `backups`). */
export interface ListedBackup {
  file: string;
  /** A path on this machine, or `<node>:<path>` for a copy on the backup node. */
  where: string;
  node: string | null;
  /** When it was taken: its manifest's creation time, else the stamp of its name, else the file's time. */
  time: string | null;
  /** null when its manifest was not read (encrypted, or on the node without --verify). */
  generation: number | null;
  bytes: number;
  encrypted: boolean;
  /** true: every check of a restore passed; false: a check failed (problem says which); null: not checked in full. */
  verified: boolean | null;
  problem?: string;
}

export interface FactOptions {
  verify: boolean;
  identity?: string;
  onProgress?: (counts: ProgressCounts) => void;
}

/**
 * What a backup file on this machine holds. A plain archive's structure and manifest are always
 * read (a cheap look that already finds a truncated or foreign file); with `verify`, every check
 * of `unpack-domain --verify`, through an encryption when an identity is given.
 */
export async function localFacts(path: string, file: string, options: FactOptions): Promise<Omit<ListedBackup, 'where' | 'node'>> {
  const info = await stat(path);
  const encrypted = await isAgeFile(path);
  const named = bootBackupTime(file) ?? info.mtime;
  const base = { file, bytes: info.size, encrypted, time: named.toISOString(), generation: null, verified: null };
  try {
    if (options.verify && (!encrypted || options.identity !== undefined)) {
      const checked = await checkBackup(path, { identity: options.identity, onProgress: options.onProgress });
      return { ...base, time: checked.createdAt, generation: checked.generation, verified: true };
    }
    if (encrypted) return base;
    const { manifest } = await inspectBackup(path);
    return { ...base, time: manifest.createdAt, generation: manifest.generation };
  } catch (error) {
    if (!(error instanceof IntegrityError)) throw error;
    return { ...base, verified: false, problem: error.message };
  }
}
