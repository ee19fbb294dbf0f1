import { mkdir, rm } from 'node:fs/promises';
import { AGE_EXTENSION, encryptBackup, tempPathFor, type WrittenBackup } from '@flotilla/pack-domain';
import { join, resolve } from 'node:path';
import { domainsDir, type DomainConfig, type DomainLayout, type Logger } from '@flotilla/core';
import { bootBackupName, bootBackupPattern, pruneBootBackups } from './boot-names.js';
import { bootBackupLocation, bootRecordFile, writeBootRecord, type BootBackupRecord } from './boot-record.js';
import type { FrozenGeneration } from './frozen-generation.js';
import { backupMessages } from './messages.js';
import { copyToNode, remoteBackupNode } from './node-copy.js';

export interface BootBackupOptions {
  layout: DomainLayout;
  config: DomainConfig;
  log: Logger;
  /** Freezes the current generation inside the MASTER's change turn, leaving `targets` out. */
  freeze(targets: string[]): Promise<FrozenGeneration>;
}

/**
 * The backup on boot (docs/contract.md#backups), run in the background once the MASTER serves: the
 * generation is frozen in the change turn (links only), then packed, then put where the policy
 * says. backup.dir is relative to the domain directory, or absolute; with a backup.node that has
 * an exec, the same path on that node, and the file waits in `<home>/domains/` until it is
 * copied, so that a failed copy leaves it there. A node without exec is this machine. The
 * outcome is logged and recorded for set-domain-backup; nothing here fails the MASTER.
 */
export async function runBootBackup(options: BootBackupOptions): Promise<void> {
  const { layout, config, log } = options;
  const policy = config.backup;
  const time = new Date();
  const base = { domain: layout.name, time: time.toISOString(), dir: policy.dir, node: policy.node };
  let record: BootBackupRecord;
  try {
    const remote = remoteBackupNode(config);
    const backupDir = resolve(layout.dir, policy.dir);
    const writeDir = remote ? domainsDir(layout.home) : backupDir;
    await mkdir(writeDir, { recursive: true });
    const file = `${await bootBackupName(writeDir, layout.name, time)}${policy.encryptTo.length ? AGE_EXTENSION : ''}`;
    const frozen = await options.freeze([join(writeDir, file)]);
    const written = await packFrozen(frozen, join(writeDir, file), policy.encryptTo);
    const done = { ...base, file, generation: written.manifest.generation, bytes: written.bytes, sha256: written.sha256 };
    if (!remote) {
      record = { ...done, outcome: 'written', place: 'backup-dir' };
    } else {
      try {
        await copyToNode(remote, written.path, backupDir, file, policy.keep, bootBackupPattern(layout.name));
        await rm(written.path, { force: true });
        record = { ...done, outcome: 'written', place: 'node' };
      } catch (error) {
        record = { ...done, outcome: 'kept-in-home', place: 'domains-home', copyFailure: (error as Error).message };
        log.warn('MA-0091', backupMessages.bootCopyFailed(file, remote.name, record.copyFailure!, writeDir));
      }
    }
    await pruneBootBackups(writeDir, layout.name, policy.keep).catch((error: Error) =>
      log.warn('MA-0092', backupMessages.pruneFailed(writeDir, policy.keep, error.message)),
    );
    if (record.outcome === 'written') log.info('MA-0090', backupMessages.bootWritten(file, record.generation ?? null, bootBackupLocation(record, layout)!));
  } catch (error) {
    record = { ...base, outcome: 'failed', error: (error as Error).message };
    log.error('MA-0092', backupMessages.bootFailed(record.error!));
  }
  const recordFile = bootRecordFile(layout, config.master.name);
  await writeBootRecord(recordFile, record).catch((error: Error) => log.error('MA-0092', backupMessages.bootNotRecorded(recordFile, error.message)));
}

/**
 * Packs the frozen generation to `target`, encrypted for `recipients` when there are any (the
 * policy's backup.encryptTo): the plain archive then exists only beside the target, under a
 * leftover name, until it is encrypted; the node copy is of the encrypted file.
 */
async function packFrozen(frozen: FrozenGeneration, target: string, recipients: readonly string[]): Promise<WrittenBackup> {
  if (recipients.length === 0) return frozen.pack(target);
  const plain = tempPathFor(target);
  try {
    const written = await frozen.pack(plain);
    return { ...written, path: target, ...(await encryptBackup(plain, target, recipients)) };
  } finally {
    await rm(plain, { force: true });
  }
}
