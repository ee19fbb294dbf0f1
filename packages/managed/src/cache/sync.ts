import { link, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  GENERATION_CONFIG_FILE,
  IntegrityError,
  applicationsOf,
  forEachConcurrent,
  syncFilesBelow,
  parseDomainConfig,
  type FileEntry,
  type GenerationManifest,
} from '@flotilla/core';
import type { CacheStore, VerifiedGeneration } from './cache-store.js';
import type { ContentSource } from './sources.js';

/** Enough transfers in flight to fill a LAN link without flooding the MASTER. */
const FETCH_CONCURRENCY = 8;
/** Past this many new files one filesystem flush is cheaper than an fsync each. */
const BATCH_FSYNC_FROM = 16;

/**
 * Test-only fault hook: a delay before each fetched file, so that crash tests can kill a server in
 * the middle of a sync. Unset in production.
 */
const TEST_FETCH_DELAY_MS = Number(process.env.FLOTILLA_TEST_FETCH_DELAY_MS ?? 0);

export interface SyncResult {
  generation: VerifiedGeneration;
  /** Nothing moved: the cache already held the source's generation. */
  unchanged: boolean;
  fetchedFiles: number;
  fetchedBytes: number;
}

export interface SyncRequest {
  cache: CacheStore;
  source: ContentSource;
  domain: string;
  server: string;
  /** The verified generation in use, whose files are reused by hash. */
  current: VerifiedGeneration | undefined;
}

/**
 * Brings the cache to the source's generation: only files whose content is not already in the
 * cache move, each verified by SHA-256; the new generation becomes current in one atomic switch.
 */
export async function syncGeneration(request: SyncRequest): Promise<SyncResult> {
  const { cache, source, current } = request;
  const manifest = await source.manifest(current?.sourceDigest);
  if (!manifest) return { generation: current!, unchanged: true, fetchedFiles: 0, fetchedBytes: 0 };
  if (manifest.domain !== request.domain) {
    throw new IntegrityError(`${source.description} serves domain ${manifest.domain}, not ${request.domain}; check --master`);
  }

  const reusable = new Map<string, string>();
  for (const file of current?.files ?? []) reusable.set(file.sha256, join(current!.root, file.path));

  const staging = await cache.newStaging();
  try {
    return await build(request, manifest, staging, reusable);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function build(
  request: SyncRequest,
  manifest: GenerationManifest,
  staging: string,
  reusable: Map<string, string>,
): Promise<SyncResult> {
  const { cache, source } = request;
  const root = join(staging, 'files');
  let fetchedFiles = 0;
  let fetchedBytes = 0;
  let batchFsync = false; // the configuration comes alone, before the batch is known
  const fetched: string[] = [];
  const made = new Map<string, Promise<unknown>>();
  const ensureDir = (dir: string) => {
    let pending = made.get(dir);
    if (!pending) made.set(dir, (pending = mkdir(dir, { recursive: true })));
    return pending;
  };
  const place = async (entry: FileEntry) => {
    const target = join(root, entry.path);
    const existing = reusable.get(entry.sha256);
    await ensureDir(dirname(target));
    if (existing) {
      // Same content, already verified: a hard link costs no copy and no transfer.
      await link(existing, target);
      return;
    }
    if (TEST_FETCH_DELAY_MS) await new Promise((resolve) => setTimeout(resolve, TEST_FETCH_DELAY_MS));
    await source.copy(entry, target, !batchFsync);
    fetched.push(target);
    fetchedFiles += 1;
    fetchedBytes += entry.size;
  };

  // The configuration comes first: it says which applications this server keeps.
  const configEntry = manifest.files.find((file) => file.path === GENERATION_CONFIG_FILE);
  if (!configEntry) throw new IntegrityError(`${source.description} sent a generation without ${GENERATION_CONFIG_FILE}`);
  await place(configEntry);
  const config = parseDomainConfig(await readFile(join(root, GENERATION_CONFIG_FILE), 'utf8'), {
    file: `${GENERATION_CONFIG_FILE} of generation ${manifest.generation} from ${source.description}`,
    expectedName: request.domain,
  });
  const prefixes = applicationsOf(config, request.server).map((app) => `apps/${app}/`);
  const kept = manifest.files.filter(
    (file) => file === configEntry || prefixes.some((prefix) => file.path.startsWith(prefix)),
  );

  const rest = kept.filter((file) => file !== configEntry);
  batchFsync = rest.filter((file) => !reusable.has(file.sha256)).length >= BATCH_FSYNC_FROM;
  await forEachConcurrent(rest, FETCH_CONCURRENCY, place);
  // Every new file is durable before the generation that lists it can become current.
  if (batchFsync) await syncFilesBelow(root, fetched);

  const generation = await cache.commit(staging, {
    generation: manifest.generation,
    sourceDigest: manifest.digest,
    files: kept,
  });
  return { generation, unchanged: false, fetchedFiles, fetchedBytes };
}
