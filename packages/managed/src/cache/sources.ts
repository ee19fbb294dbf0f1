import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import {
  API_PREFIX,
  PROTOCOL_VERSION,
  digestEntries,
  domainFiles,
  errorFrom,
  numberGeneration,
  readGenerationFile,
  scanGeneration,
  type FileEntry,
  type GenerationManifest,
  type PeerClient,
} from '@flotilla/core';
import { writeVerified } from './verified-copy.js';

/** Where a generation comes from: the MASTER over the network, or its own files on this machine. */
export interface ContentSource {
  readonly description: string;
  /** The current generation, or undefined when it is the one whose digest is `known`. */
  manifest(known?: string): Promise<GenerationManifest | undefined>;
  /** Writes one file of that generation to `target`, verified against `entry` (fsynced with `fsync`). */
  copy(entry: FileEntry, target: string, fsync: boolean): Promise<void>;
}

/** A large application over a slow link still moves; a dead MASTER is noticed within this. */
const CONTENT_IDLE_TIMEOUT_MS = 30_000;

export class MasterSource implements ContentSource {
  constructor(private readonly client: PeerClient) {}

  get description(): string {
    return `MASTER at ${this.client.where}`;
  }

  async manifest(known?: string): Promise<GenerationManifest | undefined> {
    const path = `${API_PREFIX}/generation${known ? `?known=${known}` : ''}`;
    const answer = await this.client.request<GenerationManifest | { unchanged: true }>('GET', path);
    return 'unchanged' in answer ? undefined : answer;
  }

  async copy(entry: FileEntry, target: string, fsync: boolean): Promise<void> {
    const response = await this.client.open('GET', `${API_PREFIX}/content/${entry.sha256}`, { timeoutMs: CONTENT_IDLE_TIMEOUT_MS });
    if (response.statusCode !== 200) {
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      throw errorFrom(response.statusCode ?? 0, Buffer.concat(chunks), this.client.where);
    }
    response.setTimeout(CONTENT_IDLE_TIMEOUT_MS, () => response.destroy(new Error(`${this.description} stopped sending ${entry.path}`)));
    await writeVerified(response, entry, target, this.description, fsync);
  }
}

/**
 * The MASTER's own domain directory, when this server shares its home (same machine): the server
 * starts with the MASTER's configuration even while the MASTER is down (SPEC section 6).
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
    const files = await scanGeneration(this.domainDir);
    const digest = digestEntries(files);
    this.byHash = new Map(files.map((file) => [file.sha256, file.path]));
    if (digest === known) return undefined;
    const generation = numberGeneration(await readGenerationFile(domainFiles(this.domainDir).generationFile), digest);
    return { protocol: PROTOCOL_VERSION, domain: this.domain, generation, digest, files };
  }

  async copy(entry: FileEntry, target: string, fsync: boolean): Promise<void> {
    const relative = this.byHash.get(entry.sha256) ?? entry.path;
    await writeVerified(createReadStream(join(this.domainDir, relative)), entry, target, this.description, fsync);
  }
}
