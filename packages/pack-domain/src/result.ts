import type { BackupResult } from '@flotilla/core/backup';
import type { WrittenBackup } from './write-backup.js';

/** What a written backup is reported as: `pack-domain --json`, and the MASTER's answer to a backup request. */
export function backupResult(written: WrittenBackup): BackupResult {
  return {
    domain: written.manifest.domain,
    path: written.path,
    generation: written.manifest.generation,
    files: written.manifest.files.length,
    contentBytes: written.manifest.files.reduce((sum, file) => sum + file.size, 0),
    bytes: written.bytes,
    sha256: written.sha256,
    createdAt: written.manifest.createdAt,
  };
}
