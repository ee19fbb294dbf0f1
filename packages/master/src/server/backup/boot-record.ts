import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { NameSchema, Sha256Schema, SizeSchema, domainsDir, parseMessage, serverLayout, writeFileAtomic, type DomainLayout } from '@flotilla/core';

/**
 * What the last boot backup did, kept in the MASTER's runtime directory for `set-domain-backup`
 * to show. It names places relative to the domain (the policy's `dir` as written, the node's
 * name), never the home's absolute path: a domain directory copied elsewhere stays truthful.
 * Read back with its schema: another process (an older MASTER, an operator's editor) wrote it.
 */
const BootBackupRecordSchema = z.strictObject({
  domain: NameSchema,
  /** When the backup was taken (UTC, ISO 8601). */
  time: z.iso.datetime(),
  outcome: z.enum(['written', 'kept-in-home', 'failed']),
  file: z.string().optional(),
  generation: z.number().int().min(0).nullable().optional(),
  bytes: SizeSchema.optional(),
  sha256: Sha256Schema.optional(),
  /** Where the file is: backup.dir on this machine, backup.dir on backup.node, or `<home>/domains/`. */
  place: z.enum(['backup-dir', 'node', 'domains-home']).optional(),
  /** backup.dir as configured at that boot. */
  dir: z.string(),
  node: NameSchema.nullable(),
  /** Why the copy to the node failed (the file was then kept in `<home>/domains/`). */
  copyFailure: z.string().optional(),
  /** Why no backup was written at all. */
  error: z.string().optional(),
});
export type BootBackupRecord = z.output<typeof BootBackupRecordSchema>;

export function bootRecordFile(layout: DomainLayout, masterName: string): string {
  return join(serverLayout(layout, masterName).dir, 'last-boot-backup.json');
}

export async function readBootRecord(file: string): Promise<BootBackupRecord | undefined> {
  try {
    return parseMessage(BootBackupRecordSchema, await readFile(file, 'utf8'), file);
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
