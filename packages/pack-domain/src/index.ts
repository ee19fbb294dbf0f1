export { collectDomainFiles, type BackupEntry, type CollectOptions } from './collect.js';
export { writeBackup, type BackupMeta, type WriteOptions, type WrittenBackup } from './write-backup.js';
export { FileChangedError } from './content-check.js';
export { packDomain, type PackOptions } from './pack.js';
export { removeStaleTemps } from './temp-files.js';
