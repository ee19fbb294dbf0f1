import type { BackupResult } from '@flotilla/core';
import { readBootRecord, type BootBackupRecord } from './boot-record.js';

export interface BackupTimes {
  boot?: Date;
  requested?: Date;
}

/**
 * The newest backup of the domain that this MASTER knows of: the last boot backup (recorded on
 * disk, so it survives restarts) or the last one taken on request while it runs. Backups taken
 * by pack-domain while the MASTER was down are not seen.
 */
export class LastBackup {
  private requested?: BackupResult;

  constructor(private readonly bootRecordFile: string) {}

  noteRequested(result: BackupResult): void {
    this.requested = result;
  }

  get lastRequested(): BackupResult | undefined {
    return this.requested;
  }

  private bootRecord(): Promise<BootBackupRecord | undefined> {
    return readBootRecord(this.bootRecordFile);
  }

  /** When the last backup of each kind was written; a failed boot backup wrote nothing. */
  async times(): Promise<BackupTimes> {
    // An unreadable record proves no backup; set-domain-backup and the console say why.
    const boot = await this.bootRecord().catch(() => undefined);
    return {
      ...(boot && boot.outcome !== 'failed' ? { boot: new Date(boot.time) } : {}),
      ...(this.requested ? { requested: new Date(this.requested.createdAt) } : {}),
    };
  }
}
