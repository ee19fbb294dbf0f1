import { copyFile, link, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Recreates the tree at `from` under `to` with hard links: a complete copy of a domain (servers'
 * caches and logs included) that costs no data, to lay a backup over for `-overwrite`. Files that
 * cannot be linked (another file system, a protected link) are copied. Links are linked as links,
 * never followed.
 */
export async function linkTree(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      await mkdir(target, { mode: (await lstat(source)).mode & 0o7777 });
      await linkTree(source, target);
      continue;
    }
    try {
      await link(source, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!entry.isFile() || (code !== 'EXDEV' && code !== 'EPERM')) throw error;
      await copyFile(source, target);
    }
  }
}
