export { collectDomainFiles, type ListedFile, type CollectOptions } from './collect.js';
export { writeBackup, type BackupMeta, type WriteOptions, type WrittenBackup } from './write-backup.js';
export { FileChangedError } from './content-check.js';
export { packDomain, packDirectory, type PackOptions, type PackSource } from './pack.js';
export { backupExclusions } from './exclusions.js';
export { generationOf } from './generation-of.js';
export { backupResult } from './result.js';
export { encryptBackup } from './encrypt-backup.js';
export { tempPathFor } from './temp-files.js';
