import { join } from 'node:path';
import {
  JsonText,
  PROTOCOL_VERSION,
  byPath,
  digestTree,
  isTransientFile,
  numberGeneration,
  readGenerationFile,
  scanGeneration,
  scanTree,
  writeGenerationFile,
  type DomainLayout,
  type FileEntry,
  type GenerationManifest,
  type TreeEntries,
} from '@flotilla/core';
import type { ContentFile } from './content-stream.js';

/**
 * The MASTER's view of its domain as generations: the manifest of `config/domain.json5` and
 * `apps/`, and a counter that grows whenever their content changes (by a change through the
 * MASTER, or by an edit made while it was down).
 */
export class GenerationStore {
  private readonly hashCache = new Map<string, string>();
  private byHash = new Map<string, FileEntry>();
  private current!: GenerationManifest;
  private serialized?: JsonText;

  constructor(private readonly layout: DomainLayout) {}

  get manifest(): GenerationManifest {
    return this.current;
  }

  /**
   * The manifest as JSON, serialised (and hashed for its answers' signatures) once per generation:
   * every server of a domain asks for it after each change, and a manifest of thousands of files
   * costs milliseconds to serialise.
   */
  get manifestJson(): JsonText {
    this.serialized ??= new JsonText(Buffer.from(JSON.stringify(this.current)));
    return this.serialized;
  }

  /**
   * Rescans the domain; returns true when that made a new generation. `touched`: the only paths a
   * change through the MASTER wrote (the configuration, one application's directory), rescanned
   * while the rest of the tree is taken from the current generation: a deploy no longer walks every
   * other application, and a setting walks no application at all. Without it (at start, after a
   * rollback) the whole domain is walked, which is also what takes in files edited by hand.
   */
  async refresh(touched?: readonly string[]): Promise<boolean> {
    const tree = touched && this.current ? await this.rescan(touched) : await scanGeneration(this.layout.dir, this.hashCache);
    const digest = digestTree(tree);
    const stored = await readGenerationFile(this.layout.generationFile);
    const generation = numberGeneration(stored, digest);
    const changed = generation !== stored?.generation;
    if (changed) await writeGenerationFile(this.layout.generationFile, { generation, digest });
    this.current = { protocol: PROTOCOL_VERSION, domain: this.layout.name, generation, digest, ...tree };
    this.serialized = undefined;
    this.byHash = new Map(tree.files.map((file) => [file.sha256, file]));
    return changed;
  }

  /**
   * The current tree with `touched` scanned again. Each touched path is scanned as a top of the
   * walk, so it is never itself listed as an empty directory: an application's directory holds at
   * least its entry point (checkStaged), as a full scan would find it.
   */
  private async rescan(touched: readonly string[]): Promise<TreeEntries> {
    const fresh = await scanTree(this.layout.dir, touched, { exclude: isTransientFile, hashCache: this.hashCache });
    const untouched = (entry: { path: string }) => !touched.some((path) => entry.path === path || entry.path.startsWith(`${path}/`));
    const merge = <T extends { path: string }>(kept: readonly T[], scanned: readonly T[]) => [...kept.filter(untouched), ...scanned].sort(byPath);
    return { files: merge(this.current.files, fresh.files), links: merge(this.current.links, fresh.links), dirs: merge(this.current.dirs, fresh.dirs) };
  }

  /** The file that holds content with this hash in the current generation, and its size. */
  contentOf(sha256: string): ContentFile | undefined {
    const entry = this.byHash.get(sha256);
    return entry && { path: join(this.layout.dir, entry.path), size: entry.size };
  }
}
