import { copyFile, mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, writeFileAtomic } from '../atomic-file.js';
import type { DomainLayout } from '../layout.js';

/** Enough to walk back through a long afternoon of changes; older versions live in backups. */
export const HISTORY_KEEP = 50;

const HISTORY_FILE = /^domain_\d{8}_\d{6}(_\d+)?\.json5$/;

function timestamp(date: Date): string {
  const iso = date.toISOString(); // UTC, so versions sort the same on every machine
  return `${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}`;
}

/**
 * Replaces the domain's configuration with `text`, keeping the version it replaces in
 * `config/.history/domain_YYYYMMDD_HHMMSS.json5` (newest HISTORY_KEEP kept). The new file is
 * written atomically: a crash leaves the old configuration or the new one.
 */
export async function writeDomainConfig(layout: DomainLayout, text: string, now = new Date()): Promise<void> {
  await mkdir(layout.historyDir, { recursive: true });
  const base = `domain_${timestamp(now)}`;
  const taken = new Set(await readdir(layout.historyDir));
  let name = `${base}.json5`;
  for (let n = 1; taken.has(name); n++) name = `${base}_${n}.json5`;
  try {
    await copyFile(layout.configFile, join(layout.historyDir, name));
    await syncDirectory(layout.historyDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // first version: nothing to keep
  }
  await writeFileAtomic(layout.configFile, text);
  await pruneHistory(layout.historyDir);
}

async function pruneHistory(dir: string): Promise<void> {
  const versions = (await readdir(dir)).filter((name) => HISTORY_FILE.test(name)).sort(compareVersions);
  for (const old of versions.slice(0, Math.max(0, versions.length - HISTORY_KEEP))) await unlink(join(dir, old));
}

/** Oldest first; `_N` suffixes order versions written within the same second. */
function compareVersions(a: string, b: string): number {
  const key = (name: string) => {
    const [, stamp, n] = /^domain_(\d{8}_\d{6})(?:_(\d+))?/.exec(name)!;
    return [stamp!, Number(n ?? 0)] as const;
  };
  const [sa, na] = key(a);
  const [sb, nb] = key(b);
  return sa < sb ? -1 : sa > sb ? 1 : na - nb;
}
