/** Test-only: domains with applications, and snapshots to compare directory trees byte for byte. */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { run } from '@flotilla/test-support';

/** Creates `domain` in `home` with a server and an application: a script, a binary, a nested directory, an empty file. */
export async function createDomainWithApps(home: string, domain = 'domain1'): Promise<string> {
  const created = await run('master', ['create-domain', domain, '--home', home, '--server', 'server1:8088']);
  expect(created.exitCode, created.stderr).toBe(0);
  const dir = join(home, 'domains', domain);
  const app = join(dir, 'apps', 'hello');
  await mkdir(join(app, 'lib', 'deep'), { recursive: true });
  await writeFile(join(app, 'index.js'), 'require("http").createServer((q, s) => s.end("hi")).listen(process.env.PORT);\n');
  await chmod(join(app, 'index.js'), 0o755);
  await writeFile(join(app, 'lib', 'blob.bin'), randomBytes(256 * 1024));
  await writeFile(join(app, 'lib', 'deep', 'data.json'), '{"n": 1}\n');
  await writeFile(join(app, 'empty.txt'), '');
  return dir;
}

export interface FileState {
  mode: number;
  sha256: string;
}

/** Every file and directory under `dir` (relative path → mode and content hash; directories hash to ''). */
export async function snapshot(dir: string): Promise<Record<string, FileState>> {
  const result: Record<string, FileState> = {};
  async function walk(relative: string): Promise<void> {
    for (const entry of await readdir(join(dir, relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      const info = await lstat(join(dir, path));
      if (entry.isDirectory()) {
        result[`${path}/`] = { mode: info.mode & 0o7777, sha256: '' };
        await walk(path);
      } else {
        result[path] = { mode: info.mode & 0o7777, sha256: createHash('sha256').update(await readFile(join(dir, path))).digest('hex') };
      }
    }
  }
  await walk('');
  return result;
}

/**
 * The files of a snapshot under `prefix/` (the prefix kept in the keys). Directories are left out:
 * a backup holds files, and a restore makes their directories as create-domain would.
 */
export function filesUnder(state: Record<string, FileState>, ...prefixes: string[]): Record<string, FileState> {
  return Object.fromEntries(
    Object.entries(state).filter(([path]) => !path.endsWith('/') && prefixes.some((prefix) => path.startsWith(`${prefix}/`))),
  );
}
