import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { domainsDir, serverLayout, writeFileAtomic, type DomainLayout } from '@flotilla/core';

/**
 * What the last boot backup did, kept in the MASTER's runtime directory for `set-domain-backup`
 * to show. It names places relative to the domain (the policy's `dir` as written, the node's
 * name), never the home's absolute path: a domain directory copied elsewhere stays truthful.
 */
export interface BootBackupRecord {
  domain: string;
  /** When the backup was taken (UTC, ISO 8601). */
  time: string;
  outcome: 'written' | 'kept-in-home' | 'failed';
  file?: string;
  generation?: number | null;
  bytes?: number;
  sha256?: string;
  /** Where the file is: backup.dir on this machine, backup.dir on backup.node, or `<home>/domains/`. */
  place?: 'backup-dir' | 'node' | 'domains-home';
  /** backup.dir as configured at that boot. */
  dir: string;
  node: string | null;
  /** Why the copy to the node failed (the file was then kept in `<home>/domains/`). */
  copyFailure?: string;
  /** Why no backup was written at all. */
  error?: string;
}

export function bootRecordFile(layout: DomainLayout, masterName: string): string {
  return join(serverLayout(layout, masterName).dir, 'last-boot-backup.json');
}

export async function readBootRecord(file: string): Promise<BootBackupRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as BootBackupRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // no boot backup yet
    throw error;
  }
}

export async function writeBootRecord(file: string, record: BootBackupRecord): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** Where the recorded backup is, as a path on this machine or `<node>:<path>`. */
export function bootBackupLocation(record: BootBackupRecord, layout: DomainLayout): string | undefined {
  if (!record.file || !record.place) return undefined;
  switch (record.place) {
    case 'backup-dir':
      return join(resolve(layout.dir, record.dir), record.file);
    case 'node':
      return `${record.node}:${join(resolve(layout.dir, record.dir), record.file)}`;
    case 'domains-home':
      return join(domainsDir(layout.home), record.file);
  }
}
