import { chmod, link, readFile, rm, symlink, utimes } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import {
  GENERATION_CONFIG_FILE,
  GenerationManifestSchema,
  IntegrityError,
  applicationsOf,
  fileTimeSeconds,
  forEachConcurrent,
  parseDomainConfig,
  parseMessage,
  type DomainConfig,
  type ProgressCounts,
  type FileEntry,
  type GenerationManifest,
  type TreeEntries,
} from '@flotilla/core';
import type { CacheStore, VerifiedGeneration } from './cache-store.js';
import type { ContentSource } from './sources.js';
import { METADATA_CONCURRENCY, makeDirs } from './make-dirs.js';
import { copyVerified, type FileHooks, type Placement } from './verified-copy.js';

/**
 * Test-only fault hook: a delay before each fetched file, so that crash tests can kill a server in
 * the middle of a sync. Unset in production.
 */
const TEST_FETCH_DELAY_MS = Number(process.env.FLOTILLA_TEST_FETCH_DELAY_MS ?? 0);
const beforeFile = TEST_FETCH_DELAY_MS ? () => new Promise<void>((resolve) => setTimeout(resolve, TEST_FETCH_DELAY_MS)) : undefined;

/**
 * `unchanged`: nothing moved, the cache already held the source's generation. Otherwise the new
 * generation comes with its configuration, already validated: nobody needs to parse it again.
 */
export type SyncResult = {
  generation: VerifiedGeneration;
  fetchedFiles: number;
  fetchedBytes: number;
} & ({ unchanged: true } | { unchanged: false; config: DomainConfig });

export interface SyncRequest {
  cache: CacheStore;
  source: ContentSource;
  domain: string;
  server: string;
  /** The verified generation in use, whose files are reused by hash. */
  current: VerifiedGeneration | undefined;
  /** The application files that move, counted as they arrive (the configuration, one small file, is not). */
  onProgress?: (counts: ProgressCounts) => void;
}

/**
 * Brings the cache to the source's generation: only files whose content is not already in the
 * cache move, each verified by SHA-256; the new generation becomes current in one atomic switch.
 */
export async function syncGeneration(request: SyncRequest): Promise<SyncResult> {
  const { cache, source, current } = request;
  const answer = await source.manifest(current?.sourceDigest);
  if (answer === undefined) return { generation: current!, unchanged: true, fetchedFiles: 0, fetchedBytes: 0 };
  // Checked before anything is written, whoever the source is: every path stays in the cache.
  const manifest = parseMessage(GenerationManifestSchema, answer, `the generation manifest from ${source.description}`);
  if (manifest.domain !== request.domain) {
    throw new IntegrityError(`${source.description} serves domain ${manifest.domain}, not ${request.domain}; check --master`);
  }

  const reusable = new Map<string, string>();
  for (const file of current?.files ?? []) {
    const path = join(current!.root, file.path);
    reusable.set(reuseKey(file), path);
    reusable.set(file.sha256, path);
  }

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
  /** Files of the generation in use, by content (reuseKey with and without mode and time). */
  reusable: Map<string, string>,
): Promise<SyncResult> {
  const { cache, source } = request;
  // Absolute, so that every target below is compared with it as resolve() writes paths.
  const root = resolve(staging, 'files');
  // Everything created in staging, made durable at once when the generation is committed.
  const created: string[] = [root];
  const dirs = new Set<string>([root]);
  let fetchedFiles = 0;
  let fetchedBytes = 0;

  const place = async (entries: readonly FileEntry[], hooks: FileHooks) => {
    const targets = new Map(entries.map((entry) => [entry, below(root, entry.path, source.description)]));
    await makeDirs([...targets.values()].map((target) => dirname(target)), dirs, created);
    const fresh: Placement[] = [];
    const linked: Array<[string, string]> = [];
    const copied: Array<[string, Placement]> = [];
    for (const [entry, target] of targets) {
      const same = reusable.get(reuseKey(entry));
      const sameContent = same ?? reusable.get(entry.sha256);
      // Same content, mode and time, already verified: a hard link costs no copy and no transfer.
      if (same) linked.push([same, target]);
      // Same content only: copied here (a link would change the other file's mode or time too).
      else if (sameContent) copied.push([sameContent, { entry, target }]);
      else fresh.push({ entry, target });
    }
    await settleAll([
      forEachConcurrent(linked, METADATA_CONCURRENCY, ([existing, target]) => link(existing, target)),
      forEachConcurrent(copied, METADATA_CONCURRENCY, ([existing, placement]) => copyVerified(existing, placement, 'the cache')),
      fresh.length > 0 ? source.fetch(fresh, hooks) : Promise.resolve(),
    ]);
    for (const [, { target }] of copied) created.push(target);
    for (const { entry, target } of fresh) {
      created.push(target);
      fetchedFiles += 1;
      fetchedBytes += entry.size;
    }
  };

  // The configuration comes first: it says which applications this server keeps.
  const configEntry = manifest.files.find((file) => file.path === GENERATION_CONFIG_FILE);
  if (!configEntry) throw new IntegrityError(`${source.description} sent a generation without ${GENERATION_CONFIG_FILE}`);
  await place([configEntry], { before: beforeFile });
  const config = parseDomainConfig(await readFile(join(root, GENERATION_CONFIG_FILE), 'utf8'), {
    file: `${GENERATION_CONFIG_FILE} of generation ${manifest.generation} from ${source.description}`,
    expectedName: request.domain,
  });
  const prefixes = applicationsOf(config, request.server).map((app) => `apps/${app}/`);
  const kept = manifest.files.filter(
    (file) => file === configEntry || prefixes.some((prefix) => file.path.startsWith(prefix)),
  );
  const keptTree: TreeEntries = {
    files: kept,
    links: manifest.links.filter((entry) => prefixes.some((prefix) => entry.path.startsWith(prefix))),
    dirs: manifest.dirs.filter((entry) => prefixes.some((prefix) => entry.path.startsWith(prefix))),
  };
  const rest = kept.filter((file) => file !== configEntry);
  const moving = rest.filter((file) => !reusable.has(file.sha256));
  const counts: ProgressCounts = { files: 0, totalFiles: moving.length, bytes: 0, totalBytes: moving.reduce((sum, file) => sum + file.size, 0) };
  await place(rest, {
    before: beforeFile,
    progress: (bytes, files) => {
      counts.bytes += bytes;
      counts.files += files;
      request.onProgress?.(counts);
    },
  });

  await placeLinksAndDirs(root, keptTree, source.description, dirs, created);

  const generation = await cache.commit(staging, { generation: manifest.generation, sourceDigest: manifest.digest, ...keptTree }, created);
  return { generation, config, unchanged: false, fetchedFiles, fetchedBytes };
}

/**
 * The symbolic links (created as the manifest gives them: their targets were checked with it) and
 * the empty directories, with their modes and times. Links are not listed in `created`: a flush
 * by path would follow them; their directories are.
 */
async function placeLinksAndDirs(root: string, tree: TreeEntries, from: string, dirs: Set<string>, created: string[]): Promise<void> {
  // An empty directory is made with the others (in `created` then): its mode may forbid entries, so it gets it after.
  await makeDirs([...tree.links.map((entry) => dirname(below(root, entry.path, from))), ...tree.dirs.map((entry) => below(root, entry.path, from))], dirs, created);
  await settleAll([
    forEachConcurrent(tree.links, METADATA_CONCURRENCY, (entry) => symlink(entry.target, below(root, entry.path, from))),
    forEachConcurrent(tree.dirs, METADATA_CONCURRENCY, async (entry) => {
      const target = below(root, entry.path, from);
      await chmod(target, entry.mode);
      await utimes(target, fileTimeSeconds(entry.mtime), fileTimeSeconds(entry.mtime));
    }),
  ]);
}

/** The key of a reusable file: content, mode and time, or (for a local copy) content alone. */
function reuseKey(file: FileEntry): string {
  return `${file.sha256}:${file.mode}:${file.mtime}`;
}

/**
 * Where a manifest path goes in staging. The manifest's schema already refused any path that could
 * leave it; this second check means that a bug there still cannot write outside the cache.
 */
function below(root: string, path: string, from: string): string {
  const target = resolve(root, path);
  if (!target.startsWith(`${root}${sep}`)) throw new IntegrityError(`${from} sent a file path that leaves the cache: ${JSON.stringify(path.slice(0, 200))}`);
  return target;
}

/** Waits for every one, then throws the first failure: nothing still writes when staging is removed. */
async function settleAll(work: ReadonlyArray<Promise<unknown>>): Promise<void> {
  for (const outcome of await Promise.allSettled(work)) if (outcome.status === 'rejected') throw outcome.reason;
}
