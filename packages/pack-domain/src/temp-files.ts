import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isAlive } from '@flotilla/core';

/**
 * Where an archive is written before it is verified and renamed over `target`: beside it (a rename
 * within one directory is atomic), hidden, named with the writer's PID and ending in `.tmp`, the
 * shape every Flotilla temporary file has, so that no backup ever includes one.
 */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Removes the temporary files that packs killed midway left beside `target` (never a live pack's). */
export async function removeStaleTemps(target: string): Promise<void> {
  const escaped = basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^\\.${escaped}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
  for (const name of await readdir(dirname(target))) {
    const match = pattern.exec(name);
    if (match && !isAlive(Number(match[1]))) await rm(join(dirname(target), name), { force: true });
  }
}
