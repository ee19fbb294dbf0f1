import { join } from 'node:path';
import {
  API_PREFIX,
  GenerationUnchangedSchema,
  MAX_CONTENT_HASHES,
  PROTOCOL_VERSION,
  digestTree,
  domainFiles,
  forEachConcurrent,
  numberGeneration,
  readGenerationFile,
  scanGeneration,
  type ContentRequest,
  type GenerationManifest,
  type PeerClient,
} from '@flotilla/core';
import { copyVerified, receiveFiles, type FileHooks, type Placement } from './verified-copy.js';

/** Where a generation comes from: the MASTER over the network, or its own files on this machine. */
export interface ContentSource {
  readonly description: string;
  /**
   * The current generation's manifest as the source gives it, or undefined when it is the one whose
   * digest is `known`. Unchecked: syncGeneration checks it against its schema, whatever the source.
   */
  manifest(known?: string): Promise<unknown>;
  /** Writes each file of that generation to its target, verified against its entry (not fsynced). */
  fetch(placements: readonly Placement[], hooks: FileHooks): Promise<void>;
}

/** A large application over a slow link still moves; a dead MASTER is noticed within this. */
const CONTENT_IDLE_TIMEOUT_MS = 30_000;
/** Small files ride together up to this many bytes a request; a larger file goes alone. */
const BATCH_BYTES = 8 * 1024 * 1024;
/** Requests in flight: enough to keep both ends busy, few enough not to flood the MASTER. */
const BATCHES_IN_FLIGHT = 4;
/** Local copies in flight. */
const COPY_CONCURRENCY = 8;

export class MasterSource implements ContentSource {
  constructor(private readonly client: PeerClient) {}

  get description(): string {
    return `MASTER at ${this.client.where}`;
  }

  async manifest(known?: string): Promise<unknown> {
    const path = `${API_PREFIX}/generation${known ? `?known=${known}` : ''}`;
    const answer = await this.client.request('GET', path);
    return GenerationUnchangedSchema.safeParse(answer).success ? undefined : answer;
  }

  async fetch(placements: readonly Placement[], hooks: FileHooks): Promise<void> {
    await forEachConcurrent(batchesOf(placements), BATCHES_IN_FLIGHT, (batch) => this.fetchBatch(batch, hooks));
  }

  private async fetchBatch(batch: readonly Placement[], hooks: FileHooks): Promise<void> {
    const body: ContentRequest = { hashes: batch.map((placement) => placement.entry.sha256) };
    const bytes = batch.reduce((sum, placement) => sum + placement.entry.size, 0);
    await receiveFiles((sink) => this.client.receive(`${API_PREFIX}/content`, body, sink, CONTENT_IDLE_TIMEOUT_MS, bytes), batch, this.description, hooks);
  }
}

/** Consecutive files grouped up to BATCH_BYTES and MAX_CONTENT_HASHES; a file past BATCH_BYTES alone. */
function batchesOf(placements: readonly Placement[]): Placement[][] {
  const batches: Placement[][] = [];
  let current: Placement[] = [];
  let bytes = 0;
  for (const placement of placements) {
    const size = placement.entry.size;
    if (current.length > 0 && (bytes + size > BATCH_BYTES || current.length === MAX_CONTENT_HASHES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(placement);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * The MASTER's own domain directory, when this server shares its home (same machine): the server
 * starts with the MASTER's configuration even while the MASTER is down (docs/contract.md#what-survives-what).
 */
export class LocalDomainSource implements ContentSource {
  private byHash = new Map<string, string>();

  constructor(
    private readonly domainDir: string,
    private readonly domain: string,
  ) {}

  get description(): string {
    return `the MASTER's own files in ${this.domainDir}`;
  }

  async manifest(known?: string): Promise<GenerationManifest | undefined> {
    const tree = await scanGeneration(this.domainDir);
    const digest = digestTree(tree);
    this.byHash = new Map(tree.files.map((file) => [file.sha256, file.path]));
    if (digest === known) return undefined;
    const generation = numberGeneration(await readGenerationFile(domainFiles(this.domainDir).generationFile), digest);
    return { protocol: PROTOCOL_VERSION, domain: this.domain, generation, digest, ...tree };
  }

  async fetch(placements: readonly Placement[], hooks: FileHooks): Promise<void> {
    await forEachConcurrent(placements, COPY_CONCURRENCY, async (placement) => {
      await hooks.before?.();
      const relative = this.byHash.get(placement.entry.sha256) ?? placement.entry.path;
      await copyVerified(join(this.domainDir, relative), placement, this.description);
      hooks.progress?.(placement.entry.size, 1);
    });
  }
}
