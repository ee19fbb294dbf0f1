/**
 * What packing a domain on this machine and verifying a backup need, and nothing heavier: no
 * logger, HTTP client or server, TLS. The root takes 155-185 ms of CPU to load, this 95-100 ms,
 * against some 0.95 s for a whole pack of a 2 563-file npm tree. pack-domain and unpack-domain's
 * verification import this entry; what reaches a MASTER imports the package root when it runs.
 * Everything here is in the root as well.
 */
export * from './errors.js';
export * from './storage-error.js';
export * from './atomic-file.js';
export * from './layout.js';
export * from './backup-manifest.js';
export * from './file-entry.js';
export * from './file-tree.js';
export * from './generation.js';
export * from './concurrency.js';
export * from './relative-path.js';
export * from './process/server-lock.js';
export * from './protocol/sync.js';
export { openDomain, type Domain } from './domain.js';
export { messages } from './messages.js';
export { TerminalProgress, describeProgress, formatBytes, type ProgressCounts } from './cli/terminal-progress.js';
