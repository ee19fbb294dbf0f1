import { join } from 'node:path';
import {
  PROTOCOL_VERSION,
  digestEntries,
  numberGeneration,
  readGenerationFile,
  scanGeneration,
  writeGenerationFile,
  type DomainLayout,
  type GenerationManifest,
} from '@flotilla/core';

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
    const files = await scanGeneration(this.layout.dir, this.hashCache);
    const digest = digestEntries(files);
    const stored = await readGenerationFile(this.layout.generationFile);
    const generation = numberGeneration(stored, digest);
    const changed = generation !== stored?.generation;
    if (changed) await writeGenerationFile(this.layout.generationFile, { generation, digest });
    this.current = { protocol: PROTOCOL_VERSION, domain: this.layout.name, generation, digest, files };
    this.byHash = new Map(files.map((file) => [file.sha256, file.path]));
    return changed;
  }

  /** The file that holds content with this hash in the current generation. */
  pathOf(sha256: string): string | undefined {
    const relative = this.byHash.get(sha256);
    return relative && join(this.layout.dir, relative);
  }
}
