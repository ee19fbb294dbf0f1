// The managed server's cache and sync, for tools that drive them directly (benchmarks, diagnostics).
export { CacheStore, type CachedGeneration, type VerifiedGeneration } from './cache/cache-store.js';
export { MasterSource, LocalDomainSource, type ContentSource } from './cache/sources.js';
export { syncGeneration, type SyncResult, type SyncRequest } from './cache/sync.js';
// The process metrics every management port serves, the MASTER's too.
export { registerProcessMetrics } from './process-metrics.js';
// How a server follows its MASTER (the event stream, and the link that retries it on schedule): for
// load harnesses that simulate many servers with the real client side (packages/test-support/src/fleet.mjs).
export { MasterLink, followEvents, type LinkTurns, type StreamHello } from './master-link.js';
