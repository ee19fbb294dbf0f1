import { rename, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { isDeepStrictEqual } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  BACKUP_FORMAT_VERSION,
  BACKUP_LIMITS,
  BACKUP_MANIFEST_NAME,
  FlotillaError,
  IntegrityError,
  sha256File,
  byPath,
  storageError,
  syncDirectory,
  type BackupManifest,
  type GenerationCounter,
  type ProgressCounts,
} from '@flotilla/core/backup';
import { removeLeftovers, verifyBackup } from '@flotilla/unpack-domain/verification';
import type { ListedTree } from './collect.js';
import { testPauseMs, writeFiles } from './archive-files.js';
import { compressContent } from './compress-file.js';
import { checkStillListed } from './content-check.js';
import { generationOf } from './generation-of.js';
import { packMessages } from './messages.js';
import { tempPathFor } from './temp-files.js';
import { METHOD_STORED, ZipWriter } from './zip-writer.js';

export interface BackupMeta {
  domain: string;
  /** The generation the files are believed to be; the manifest names it only if their digest matches (generationOf). */
  counter: GenerationCounter | undefined;
  createdAt?: Date;
  /** What wrote the backup: `pack-domain 0.1.0`, or the MASTER for boot backups. */
  tool: { name: string; version: string };
}

/** What a pack is doing: writing the files into the archive, then reading the archive back. */
export type PackPhase = 'packing' | 'verifying';

export interface WriteOptions {
  onProgress?: (counts: ProgressCounts, phase: PackPhase) => void;
  /**
   * Work on the finished archive (complete and fsynced, under its temporary name `archive`) that
   * runs while it is verified, such as encrypting it: the backup is kept only if both succeed, and
   * neither is left running when writeBackup returns or throws. The file does not change meanwhile.
   */
  whileVerifying?: (archive: string) => Promise<unknown>;
  /**
   * A full garbage collection between writing and reading back (collectGarbage), for a process
   * that packs once and exits, whose peak memory is the figure: pack-domain. A long-running
   * process such as the MASTER leaves its collector alone.
   */
  collectBetweenPhases?: boolean;
}

export interface WrittenBackup {
  path: string;
  manifest: BackupManifest;
  /** Size of the archive. */
  bytes: number;
  /** SHA-256 of the archive. */
  sha256: string;
}

/**
 * The archive holds the domain key, so only its owner may read it, wherever it is copied to.
 */
const ARCHIVE_MODE = 0o600;

/**
 * Writes a backup archive of `files` to `target`: each file, checked against its listing as it is
 * read (a FileChangedError if it differs), then the manifest of what was written. The archive is
 * written to a temporary file beside the target, fsynced, read back completely with the restore's
 * own checks, and only then renamed over the target: the target path never holds a partial or
 * unverified archive, whatever happens midway. What killed packs and restores left there is removed first.
 */
export async function writeBackup(tree: ListedTree, meta: BackupMeta, target: string, options: WriteOptions = {}): Promise<WrittenBackup> {
  await removeLeftovers(dirname(target));
  const temp = tempPathFor(target);
  let kept = false;
  try {
    const { manifest, bytes } = await writeArchive(temp, tree, meta, options);
    if (options.collectBetweenPhases) collectGarbage();
    const [verification, alongside] = await Promise.allSettled([verifyWritten(temp, manifest, options), options.whileVerifying?.(temp)]);
    if (verification.status === 'rejected') throw verification.reason;
    if (alongside.status === 'rejected') throw alongside.reason;
    const sha256 = await sha256File(temp);
    await rename(temp, target);
    kept = true;
    await syncDirectory(dirname(target));
    return { path: target, manifest, bytes, sha256 };
  } catch (error) {
    // The archive is written through an open file, whose errors name no path: the target is where.
    throw storageError(error, target) ?? error;
  } finally {
    if (!kept) await rm(temp, { force: true });
  }
}

/**
 * Writing leaves tens of MB of garbage (read buffers, deflated pieces, the listing's work) that V8
 * collects only once the read-back's own allocations pile up on it, and that sum set the pack's
 * peak memory: 20 000 small files and 150 MB of large ones, 191-229 MB without this, 180-194 MB
 * with it, in alternating runs; a few milliseconds of CPU. Node has no call for a collection
 * without --expose-gc, which `node bin/pack-domain.js` is not given; the flag set now makes `gc`
 * available in a new context (the flag changes nothing else).
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Reads the archive at `temp` back with the restore's own checks: it must hold `manifest`, as written. */
async function verifyWritten(temp: string, manifest: BackupManifest, options: WriteOptions): Promise<void> {
  const onProgress = (counts: ProgressCounts) => options.onProgress?.(counts, 'verifying');
  onProgress({ files: 0, totalFiles: manifest.files.length, bytes: 0, totalBytes: manifest.files.reduce((sum, file) => sum + file.size, 0) });
  if (testPauseMs) await sleep(testPauseMs);
  const verified = await verifyBackup(temp, { onProgress }).catch((error: unknown) => {
    throw error instanceof IntegrityError ? new IntegrityError(packMessages.selfCheckFailed(error.message), { cause: error }) : error;
  });
  if (!isDeepStrictEqual(verified.manifest, manifest)) {
    throw new IntegrityError(packMessages.selfCheckFailed(`its ${BACKUP_MANIFEST_NAME} differs from the one written`));
  }
}

async function writeArchive(temp: string, tree: ListedTree, meta: BackupMeta, options: WriteOptions): Promise<{ manifest: BackupManifest; bytes: number }> {
  const { files } = tree;
  const date = meta.createdAt ?? new Date();
  const counts: ProgressCounts = { files: 0, totalFiles: files.length, bytes: 0, totalBytes: files.reduce((sum, file) => sum + file.size, 0) };
  const onBytes = (count: number) => {
    counts.bytes += count;
    options.onProgress?.(counts, 'packing');
  };
  const writer = await ZipWriter.create(temp, ARCHIVE_MODE);
  try {
    const packed = await writeFiles(writer, files, onBytes, () => {
      counts.files++;
      options.onProgress?.(counts, 'packing');
    });
    await checkStillListed(files);
    await writeLinksAndDirs(writer, tree, date);

    const manifest: BackupManifest = {
      formatVersion: BACKUP_FORMAT_VERSION,
      domain: meta.domain,
      generation: generationOf({ files: packed, links: tree.links, dirs: tree.dirs }, meta.counter),
      createdAt: date.toISOString(),
      tool: meta.tool,
      files: packed.sort(byPath),
      links: tree.links,
      dirs: tree.dirs,
    };
    const manifestText = Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`);
    if (manifestText.length > BACKUP_LIMITS.maxManifestBytes) {
      throw new FlotillaError(packMessages.manifestTooBig(manifestText.length, BACKUP_LIMITS.maxManifestBytes));
    }
    // Not parsed here with the restore's schema: the verification that follows does exactly that,
    // on what the archive holds (a 20 000-file manifest takes 130-250 ms to parse).
    const compressed = compressContent(manifestText);
    await writer.add(
      { name: BACKUP_MANIFEST_NAME, mode: 0o644, date, method: compressed.method, size: manifestText.length },
      { crc32: compressed.crc32, compressedSize: compressed.data.length },
      [compressed.data],
    );
    await writer.finish();
    await writer.sync();
    return { manifest, bytes: writer.size };
  } finally {
    await writer.close();
  }
}

/**
 * Links as Info-ZIP writes them (a stored entry whose content is the target, Unix type link) and
 * empty directories as directory entries (`name/`): unzip restores both as they were. Their time
 * is the pack's for links (the manifest does not keep one), the directory's own for directories.
 */
async function writeLinksAndDirs(writer: ZipWriter, tree: ListedTree, date: Date): Promise<void> {
  for (const link of tree.links) {
    const target = Buffer.from(link.target, 'utf8');
    await writer.add({ name: link.path, mode: 0o777, kind: 'link', date, method: METHOD_STORED, size: target.length }, { crc32: crc32(target), compressedSize: target.length }, [target]);
  }
  for (const dir of tree.dirs) {
    await writer.add({ name: `${dir.path}/`, mode: dir.mode, kind: 'dir', date: new Date(dir.mtime), method: METHOD_STORED, size: 0 }, { crc32: 0, compressedSize: 0 }, []);
  }
}
