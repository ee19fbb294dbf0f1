export { inspectBackup, verifyBackup, type VerifiedBackup, type VerifiedEntry, type VerifyOptions } from './verify.js';
export { openBackup, type OpenedBackup } from './open-backup.js';
export { extractBackup, type ExtractOptions } from './extract.js';
export { installBackup, type ExistingDomain, type InstallOptions, type InstallResult } from './install.js';
export { applyMasterChanges, type MasterChanges, type RewrittenConfig } from './master-changes.js';
export { askMasterChanges, terminalQuestioner, type Questioner } from './prompts.js';
export { leftoverName, removeLeftovers, type LeftoverKind } from './leftovers.js';
export { AGE_EXTENSION, checkRecipients, decryptFile, isAgeFile } from './age-file.js';
export { checkBackup, decryptedArchive, type CheckedBackup, type CheckOptions } from './check-backup.js';
