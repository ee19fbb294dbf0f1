// The managed server's cache and sync, for tools that drive them directly (benchmarks, diagnostics).
export { CacheStore, type CachedGeneration, type VerifiedGeneration } from './cache/cache-store.js';
export { MasterSource, LocalDomainSource, type ContentSource } from './cache/sources.js';
export { syncGeneration, type SyncResult, type SyncRequest } from './cache/sync.js';
// The process metrics every management port serves, the MASTER's too.
export { registerProcessMetrics } from './process-metrics.js';
