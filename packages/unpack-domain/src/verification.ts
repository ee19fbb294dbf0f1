/**
 * What checking a backup without restoring it needs, and no more: pack-domain verifies what it
 * wrote with this entry, which loads core's light entry (@flotilla/core/backup) only.
 * Everything here is in the package root as well.
 */
export { inspectBackup, verifyBackup, type VerifiedBackup, type VerifiedEntry, type VerifyOptions } from './verify.js';
export { leftoverName, removeLeftovers, type LeftoverKind } from './leftovers.js';
export { AGE_EXTENSION } from './age-file.js';
