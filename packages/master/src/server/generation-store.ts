import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GENERATION_CONFIG_FILE,
  PROTOCOL_VERSION,
  digestEntries,
  scanTree,
  writeFileAtomic,
  type DomainLayout,
  type GenerationManifest,
} from '@flotilla/core';

/** Where the MASTER keeps its generation counter: inside config/, so a backup carries it along. */
export function generationFile(layout: DomainLayout): string {
  return join(layout.configDir, 'generation.json');
}

interface StoredGeneration {
  generation: number;
  digest: string;
}

/** Files being written by a deploy or an editor are not part of any generation. */
function isTransient(relativePath: string): boolean {
  const name = relativePath.slice(relativePath.lastIndexOf('/') + 1);
  return name.startsWith('.') || name.endsWith('.tmp');
}

/**
 * The MASTER's view of its domain as generations: the manifest of `config/domain.json5` and
 * `apps/`, and a counter that grows whenever their content changes (by a change through the
 * MASTER, or by an edit made while it was down).
 */
export class GenerationStore {
  private readonly hashCache = new Map<string, string>();
  private byHash = new Map<string, string>();
  private current!: GenerationManifest;

  constructor(private readonly layout: DomainLayout) {}

  get manifest(): GenerationManifest {
    return this.current;
  }

  /** Rescans the domain; returns true when that made a new generation. */
  async refresh(): Promise<boolean> {
    const files = await scanTree(this.layout.dir, [GENERATION_CONFIG_FILE, 'apps'], {
      exclude: isTransient,
      hashCache: this.hashCache,
    });
    const digest = digestEntries(files);
    const stored = await this.readStored();
    let generation = stored?.generation ?? 0;
    const changed = stored?.digest !== digest;
    if (changed) {
      generation += 1;
      await writeFileAtomic(generationFile(this.layout), `${JSON.stringify({ generation, digest } satisfies StoredGeneration)}\n`);
    }
    this.current = { protocol: PROTOCOL_VERSION, domain: this.layout.name, generation, digest, files };
    this.byHash = new Map(files.map((file) => [file.sha256, file.path]));
    return changed;
  }

  /** The file that holds content with this hash in the current generation. */
  pathOf(sha256: string): string | undefined {
    const relative = this.byHash.get(sha256);
    return relative && join(this.layout.dir, relative);
  }

  private async readStored(): Promise<StoredGeneration | undefined> {
    try {
      const stored = JSON.parse(await readFile(generationFile(this.layout), 'utf8')) as StoredGeneration;
      return Number.isInteger(stored.generation) && typeof stored.digest === 'string' ? stored : undefined;
    } catch {
      return undefined; // a new or restored domain without a counter starts it again
    }
  }
}
