import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { z } from 'zod';
import {
  BACKUP_LIMITS,
  HASH_CONCURRENCY,
  IntegrityError,
  Sha256Schema,
  generationPathProblem,
  parseMessage,
  refineTree,
  forEachConcurrent,
  sha256File,
  treeFields,
  syncDirectory,
  syncFilesBelow,
  writeFileAtomic,
  type Logger,
} from '@flotilla/core';

/**
 * The local cache of one managed server (docs/contract.md#synchronisation-and-the-cache), under `servers/<server>/cache/`:
 *
 *   current.json            which generation is in use: written last, atomically
 *   gen-<N>-<digest>/       one complete generation: manifest.json and files/
 *   staging-*               a generation being built (never used; removed at start)
 *   .*.tmp                  a pointer or file being written (never used; removed at start)
 *   master.json, domain.key what the server needs to find and trust its MASTER next time
 *
 * A generation directory is complete before current.json names it, and the previous one is kept
 * until a newer one is current, so a kill at any instant leaves the old or the new generation.
 */

/** `gen-<N>-<first 12 hex digits of the digest>`: the only directories current.json may name. */
const GENERATION_DIR = /^gen-\d+-[0-9a-f]+$/;

/**
 * A generation's manifest.json. The cache wrote it, but whatever is on disk is checked like a
 * message before it is used: its paths are joined to the generation's files/ directory.
 */
const CachedGenerationSchema = z
  .strictObject({
    generation: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** The MASTER's digest of the whole generation: equal digests mean nothing to sync. */
    sourceDigest: Sha256Schema,
    /** What this server keeps of it: its configuration and the applications that target it. */
    ...treeFields(BACKUP_LIMITS.maxEntries),
  })
  .superRefine(refineTree(generationPathProblem));
export type CachedGeneration = z.output<typeof CachedGenerationSchema>;

const CurrentPointerSchema = z.strictObject({ dir: z.string().regex(GENERATION_DIR) });
type CurrentPointer = z.output<typeof CurrentPointerSchema>;

export interface VerifiedGeneration extends CachedGeneration {
  /** Absolute path of the generation's files/ directory. */
  root: string;
  dir: string;
}

export class CacheStore {
  constructor(
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  private currentFile(): string {
    return join(this.dir, 'current.json');
  }

  filesOf(dir: string): string {
    return join(this.dir, dir, 'files');
  }

  private async readManifest(dir: string): Promise<CachedGeneration> {
    const file = join(this.dir, dir, 'manifest.json');
    return parseMessage(CachedGenerationSchema, await readFile(file, 'utf8'), file);
  }

  /**
   * Which generation is current; undefined when none is, or when current.json is not a pointer to a
   * generation directory (then open() falls back to the newest complete generation, as for a
   * corrupt one).
   */
  private async readPointer(): Promise<CurrentPointer | undefined> {
    const read = await this.readPointerOrProblem();
    return 'problem' in read ? undefined : read.pointer;
  }

  /** current.json as open() needs it: the pointer, none at all, or why it is not a pointer. */
  private async readPointerOrProblem(): Promise<{ pointer: CurrentPointer | undefined } | { problem: string }> {
    const text = await readFile(this.currentFile(), 'utf8').catch(() => undefined);
    if (text === undefined) return { pointer: undefined };
    try {
      return { pointer: parseMessage(CurrentPointerSchema, text, this.currentFile()) };
    } catch (error) {
      return { problem: `current.json is not a pointer to a generation (${(error as Error).message})` };
    }
  }

  /** Every file of a generation exists with its size and SHA-256, every link and empty directory as listed; the first problem found, if any. */
  private async problemIn(dir: string): Promise<string | undefined> {
    let manifest: CachedGeneration;
    try {
      manifest = await this.readManifest(dir);
    } catch (error) {
      return `its manifest is unreadable (${(error as Error).message})`;
    }
    let problem: string | undefined;
    await forEachConcurrent(manifest.files, HASH_CONCURRENCY, async (entry) => {
      if (problem) return;
      const path = join(this.filesOf(dir), entry.path);
      const info = await lstat(path).catch(() => undefined);
      if (!info?.isFile()) problem ??= `${entry.path} is missing`;
      else if (info.size !== entry.size) problem ??= `${entry.path} has ${info.size} bytes, expected ${entry.size}`;
      else if ((await sha256File(path)) !== entry.sha256) problem ??= `${entry.path} does not match its SHA-256`;
    });
    await forEachConcurrent(manifest.links, HASH_CONCURRENCY, async (entry) => {
      const target = await readlink(join(this.filesOf(dir), entry.path)).catch(() => undefined);
      if (target !== entry.target) problem ??= `${entry.path} is not the symbolic link to ${entry.target} its manifest says`;
    });
    await forEachConcurrent(manifest.dirs, HASH_CONCURRENCY, async (entry) => {
      const info = await lstat(join(this.filesOf(dir), entry.path)).catch(() => undefined);
      if (!info?.isDirectory()) problem ??= `directory ${entry.path} is missing`;
    });
    return problem;
  }

  private async generationDirs(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((name) => GENERATION_DIR.test(name)).sort((a, b) => Number(b.split('-')[1]) - Number(a.split('-')[1]));
  }

  /**
   * Opens the cache at start: removes unfinished work, verifies the current generation file by
   * file, and falls back to an older complete one when it is corrupt (logged). Returns undefined
   * when there is no cache at all; throws IntegrityError (exit 4) when nothing complete is left.
   */
  async open(server: string): Promise<VerifiedGeneration | undefined> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      if (name.startsWith('staging-') || name.startsWith('trash-') || name.endsWith('.tmp')) await rm(join(this.dir, name), { recursive: true, force: true });
    }
    const read = await this.readPointerOrProblem();
    const pointer = 'problem' in read ? undefined : read.pointer;
    const candidates = await this.generationDirs();
    if (!pointer && candidates.length === 0 && !('problem' in read)) return undefined;

    const ordered = pointer ? [pointer.dir, ...candidates.filter((dir) => dir !== pointer.dir)] : candidates;
    // A garbage pointer is a corrupt cache like any other: the newest complete generation is used, and the log says why.
    const problems: string[] = 'problem' in read ? [read.problem] : [];
    for (const dir of ordered) {
      const problem = await this.problemIn(dir);
      if (!problem) {
        if (dir === pointer?.dir) this.log.info('MS-0020', `cache of ${server} verified: ${dir}`);
        else {
          this.log.warn('MS-0021', `cache of ${server}: ${problems.join('; ')}; using the older complete ${dir} instead`);
          await this.makeCurrent(dir);
        }
        return { ...(await this.readManifest(dir)), root: this.filesOf(dir), dir };
      }
      problems.push(`${dir}: ${problem}`);
    }
    const message = `cache of ${server} in ${this.dir} is corrupt (${problems.join('; ')}) and no complete generation is left; start it with the MASTER reachable to rebuild it`;
    this.log.error('MS-0022', message);
    throw new IntegrityError(message);
  }

  /** The files/ directory of the current generation, without verifying it (for clients). */
  async currentRoot(): Promise<string | undefined> {
    const pointer = await this.readPointer();
    return pointer && this.filesOf(pointer.dir);
  }

  async newStaging(): Promise<string> {
    const dir = join(this.dir, `staging-${randomBytes(6).toString('hex')}`);
    await mkdir(join(dir, 'files'), { recursive: true });
    return dir;
  }

  /**
   * Seals a staging directory as a generation and makes it current: the atomic switch. `created`
   * lists what the sync wrote in staging (files and directories, none flushed yet): one flush makes
   * them durable with the manifest, the renamed generation and the new pointer, so that the pointer,
   * renamed last, never names anything a power loss could take back.
   */
  async commit(staging: string, manifest: CachedGeneration, created: readonly string[]): Promise<VerifiedGeneration> {
    await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifest));
    const dir = `gen-${manifest.generation}-${manifest.sourceDigest.slice(0, 12)}`;
    const sealed = join(this.dir, dir);
    const pointer = join(this.dir, `.current.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(pointer, `${JSON.stringify({ dir } satisfies CurrentPointer)}\n`);
    await rm(sealed, { recursive: true, force: true }); // a leftover of the same name is not trusted
    await rename(staging, sealed);
    const moved = created.map((path) => join(sealed, relative(staging, path)));
    await syncFilesBelow(this.dir, [...moved, join(sealed, 'manifest.json'), sealed, pointer, this.dir]);
    await rename(pointer, this.currentFile());
    await syncDirectory(this.dir);
    await this.prune(dir);
    return { ...manifest, root: this.filesOf(dir), dir };
  }

  private async makeCurrent(dir: string): Promise<void> {
    await writeFileAtomic(this.currentFile(), `${JSON.stringify({ dir } satisfies CurrentPointer)}\n`);
  }

  /**
   * Keeps the current generation and the one before it (the fallback for a corrupt current). Older
   * ones are renamed to trash- at once and deleted in the background: a large generation costs the
   * switch nothing, and whatever a kill leaves in trash- is removed at the next start.
   */
  private async prune(current: string): Promise<void> {
    const dirs = (await this.generationDirs()).filter((dir) => dir !== current);
    for (const old of dirs.slice(1)) {
      const trash = join(this.dir, `trash-${randomBytes(6).toString('hex')}`);
      await rename(join(this.dir, old), trash);
      void rm(trash, { recursive: true, force: true }).catch(() => {});
    }
  }

  /** A JSON file the server keeps beside its generations, checked with `schema`; undefined when absent. */
  async readJson<Schema extends z.ZodType>(name: string, schema: Schema): Promise<z.output<Schema> | undefined> {
    const file = join(this.dir, name);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : parseMessage(schema, text, file);
  }

  async writeFile(name: string, data: string, mode?: number): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, name), data, { mode });
  }

  path(name: string): string {
    return join(this.dir, name);
  }
}

