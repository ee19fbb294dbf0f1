import { copyFile, mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, writeFileAtomic } from '../atomic-file.js';
import { UsageError } from '../errors.js';
import { messages } from '../messages.js';
import type { DomainLayout } from '../layout.js';

/** Enough to walk back through a long afternoon of changes; older versions live in backups. */
export const HISTORY_KEEP = 50;

const HISTORY_FILE = /^domain_\d{8}_\d{6}(_\d+)?\.json5$/;
/** A version as `master history` names it: the history file's name without `.json5`. */
export const HISTORY_VERSION = /^domain_\d{8}_\d{6}(_\d+)?$/;
const HISTORY_SUFFIX = '.json5';

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

/** One kept version: the configuration that was in use until `replacedAt`. */
export interface HistoryVersion {
  version: string;
  replacedAt: string;
  text: string;
}

/** The kept versions, oldest first. */
export async function readHistory(layout: DomainLayout): Promise<HistoryVersion[]> {
  const names = await readdir(layout.historyDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[]; // no change yet
    throw error;
  });
  const versions = names.filter((name) => HISTORY_FILE.test(name)).sort(compareVersions);
  return Promise.all(
    versions.map(async (name) => {
      const [, day, time] = /^domain_(\d{8})_(\d{6})/.exec(name)!;
      const replacedAt = `${day!.slice(0, 4)}-${day!.slice(4, 6)}-${day!.slice(6)}T${time!.slice(0, 2)}:${time!.slice(2, 4)}:${time!.slice(4)}Z`;
      return { version: name.slice(0, -HISTORY_SUFFIX.length), replacedAt, text: await readFile(join(layout.historyDir, name), 'utf8') };
    }),
  );
}

/** The text of one kept version (`domain_YYYYMMDD_HHMMSS`, `.json5` allowed); an unknown one is a UsageError naming the kept ones. */
export async function readHistoryVersion(layout: DomainLayout, version: string): Promise<string> {
  const name = version.endsWith(HISTORY_SUFFIX) ? version.slice(0, -HISTORY_SUFFIX.length) : version;
  const kept = await readHistory(layout);
  const found = HISTORY_VERSION.test(name) ? kept.find((entry) => entry.version === name) : undefined;
  if (!found) throw new UsageError(messages.unknownHistoryVersion(layout.name, version, kept.map((entry) => entry.version)));
  return found.text;
}
