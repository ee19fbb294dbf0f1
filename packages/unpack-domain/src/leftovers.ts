import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive, syncDirectory } from '@flotilla/core/backup';

/**
 * What pack-domain, unpack-domain and the MASTER's backups leave beside their targets while they
 * work: an archive being written (`pack`), one being decrypted (`decrypt`), a domain being unpacked
 * (`unpack`), and an existing domain renamed aside while the new one takes its place (`replaced`).
 */
export type LeftoverKind = 'pack' | 'decrypt' | 'unpack' | 'replaced';

/**
 * `.flotilla-<kind>-<pid>-<random>.<label>.tmp`: one shape whatever the target's name, so that the
 * next run of either command in that directory recognises what a killed one left (a cron job's
 * timestamped names included), and the writer's PID, so that it never touches a live run's work.
 * Hidden and ending in `.tmp`, so that no backup or generation ever includes one.
 */
const LEFTOVER = /^\.flotilla-(pack|decrypt|unpack|replaced)-(\d+)-[0-9a-f]+\.(.+)\.tmp$/;

/** A fresh leftover-shaped name for this process; `label` (a file or domain name) says what it is for. */
export function leftoverName(kind: LeftoverKind, label: string): string {
  return `.flotilla-${kind}-${process.pid}-${randomBytes(4).toString('hex')}.${label}.tmp`;
}

/** What a leftover name says: who made it, and for which file or domain. */
function leftoverOf(name: string): { kind: LeftoverKind; pid: number; label: string } | undefined {
  const match = LEFTOVER.exec(name);
  return match ? { kind: match[1] as LeftoverKind, pid: Number(match[2]), label: match[3]! } : undefined;
}

/**
 * Removes what killed packs, decryptions and restores left in `dir`. An old domain a killed restore
 * had renamed aside is put back when nothing took its place (the restore then never happened), and
 * removed when the new domain is in. Leftovers of live processes are left alone. A directory that
 * cannot be read (an archive's read-only directory) is left as it is.
 */
export async function removeLeftovers(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const leftover = leftoverOf(name);
    if (!leftover || isAlive(leftover.pid)) continue;
    const path = join(dir, name);
    const domainDir = join(dir, leftover.label);
    if (leftover.kind === 'replaced' && !(await isDirectory(domainDir))) {
      await rename(path, domainDir);
      await syncDirectory(dir);
    } else await rm(path, { recursive: true, force: true }).catch(() => {});
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((info) => info.isDirectory(), () => false);
}
