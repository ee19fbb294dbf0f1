import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** `domain1_20261124_101500.zip` (`.zip.age` when encrypted), `_N` added when a second boot comes within the same second. */
function stampOf(date: Date): string {
  const iso = date.toISOString(); // UTC: names sort the same on every machine
  return `${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}`;
}

/** The regular expression source (ERE and JavaScript alike) a boot backup name of `domain` matches. */
export function bootBackupPattern(domain: string): string {
  return `^${domain.replaceAll('.', '\\.')}_[0-9]{8}_[0-9]{6}(_[0-9]+)?\\.zip(\\.age)?$`;
}

/** A boot backup name for `date` that no file in `dir` has yet. */
export async function bootBackupName(dir: string, domain: string, date: Date): Promise<string> {
  const taken = new Set(await readdir(dir));
  const base = `${domain}_${stampOf(date)}`;
  let name = `${base}.zip`;
  for (let n = 1; taken.has(name) || taken.has(`${name}.age`); n++) name = `${base}_${n}.zip`;
  return name;
}

/** When a boot backup named `name` was taken, from its UTC stamp; undefined for another name. */
export function bootBackupTime(name: string): Date | undefined {
  const match = /_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})(?:_\d+)?\.zip(?:\.age)?$/.exec(name);
  if (!match) return undefined;
  const [, year, month, day, hours, minutes, seconds] = match;
  const date = new Date(`${year}-${month}-${day}T${hours}:${minutes}:${seconds}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Oldest first: by timestamp, then by the `_N` of boots within one second. */
function compareNames(a: string, b: string): number {
  const key = (name: string) => {
    const [, stamp, n] = /_(\d{8}_\d{6})(?:_(\d+))?\.zip(?:\.age)?$/.exec(name)!;
    return [stamp!, Number(n ?? 0)] as const;
  };
  const [sa, na] = key(a);
  const [sb, nb] = key(b);
  return sa < sb ? -1 : sa > sb ? 1 : na - nb;
}

/**
 * Keeps the newest `keep` boot backups of `domain` in `dir` and removes the older ones (what killed
 * writers left there, the archive's writer removes: see removeLeftovers). Only files named like
 * boot backups are touched: whatever else the operator keeps in that directory stays.
 */
export async function pruneBootBackups(dir: string, domain: string, keep: number): Promise<string[]> {
  const pattern = new RegExp(bootBackupPattern(domain));
  const names = await readdir(dir);
  const backups = names.filter((name) => pattern.test(name)).sort(compareNames);
  const removed = backups.slice(0, Math.max(0, backups.length - keep));
  for (const name of removed) await rm(join(dir, name), { force: true });
  return removed;
}
