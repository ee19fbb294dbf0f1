import { chmod, lstat, mkdir, readFile, readlink, rename, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempHome } from '@flotilla/test-support';
import { stageApplication } from './stage.js';

const longAgo = new Date('2020-01-02T03:04:05.678Z');

/** An application as npm leaves one: files, an executable, a relative link, an empty directory, old times. */
async function makeSource(dir: string): Promise<void> {
  await mkdir(join(dir, 'node_modules', '.bin'), { recursive: true });
  await mkdir(join(dir, 'uploads'));
  await writeFile(join(dir, 'index.js'), 'console.log("v1");\n');
  await writeFile(join(dir, 'node_modules', 'tool.js'), '#!/usr/bin/env node\n');
  await chmod(join(dir, 'node_modules', 'tool.js'), 0o755);
  await writeFile(join(dir, 'data.txt'), 'AAAA\n');
  await symlink('../tool.js', join(dir, 'node_modules', '.bin', 'tool'));
  for (const path of ['index.js', 'node_modules/tool.js', 'data.txt', 'uploads']) await utimes(join(dir, path), longAgo, longAgo);
}

describe('stageApplication of a directory', () => {
  it('carries modes, times, links and empty directories, and links only the files the installed version holds unchanged', async () => {
    const home = await tempHome();
    const source = join(home, 'source');
    const appsDir = join(home, 'apps');
    await mkdir(appsDir);
    await makeSource(source);

    /** Times as manifests keep them: whole milliseconds (a Date set by utimes can land a nanosecond below its own). */
    const millis = async (path: string) => Math.floor((await stat(path)).mtimeMs);

    // The first deploy: nothing installed, every file copied.
    const first = join(appsDir, await stageApplication(source, appsDir, 'app'));
    expect(await readlink(join(first, 'node_modules', '.bin', 'tool'))).toBe('../tool.js');
    expect((await stat(join(first, 'node_modules', 'tool.js'))).mode & 0o777).toBe(0o755);
    expect(await millis(join(first, 'index.js'))).toBe(await millis(join(source, 'index.js')));
    expect((await stat(join(first, 'uploads'))).isDirectory()).toBe(true);
    expect(await millis(join(first, 'uploads'))).toBe(await millis(join(source, 'uploads')));
    const installed = join(appsDir, 'app');
    await rename(first, installed);

    // Changed the way a redeploy sees: other bytes under the same size and time, a new mode, a new time.
    await writeFile(join(source, 'data.txt'), 'BBBB\n');
    await utimes(join(source, 'data.txt'), longAgo, longAgo);
    await chmod(join(source, 'node_modules', 'tool.js'), 0o700);
    await writeFile(join(source, 'index.js'), 'console.log("v2");\n');

    const second = join(appsDir, await stageApplication(source, appsDir, 'app'));
    const inode = async (path: string) => (await lstat(path)).ino;
    // Unchanged nowhere: each is a file of its own, with the source's content, mode and time.
    for (const path of ['data.txt', 'node_modules/tool.js', 'index.js']) {
      expect(await inode(join(second, path)), path).not.toBe(await inode(join(installed, path)));
      expect(await readFile(join(second, path), 'utf8'), path).toBe(await readFile(join(source, path), 'utf8'));
    }
    expect((await stat(join(second, 'node_modules', 'tool.js'))).mode & 0o777).toBe(0o700);
    expect(await millis(join(second, 'data.txt'))).toBe(await millis(join(installed, 'data.txt')));

    // A deploy of the same tree again: every file is the installed one, linked.
    await rename(installed, join(appsDir, 'old'));
    await rename(second, installed);
    const third = join(appsDir, await stageApplication(source, appsDir, 'app'));
    for (const path of ['data.txt', 'node_modules/tool.js', 'index.js']) {
      expect(await inode(join(third, path)), path).toBe(await inode(join(installed, path)));
    }
    expect(await readlink(join(third, 'node_modules', '.bin', 'tool'))).toBe('../tool.js');
    expect((await stat(join(third, 'uploads'))).isDirectory()).toBe(true);
  });

  it('links nothing to files outside apps/: an apps/<name> that is a symbolic link is no installed version', async () => {
    const home = await tempHome();
    const source = join(home, 'source');
    const appsDir = join(home, 'apps');
    await mkdir(appsDir);
    await makeSource(source);
    const elsewhere = join(home, 'elsewhere');
    await rename(join(appsDir, await stageApplication(source, appsDir, 'app')), elsewhere);
    await symlink(elsewhere, join(appsDir, 'app'));
    const staged = join(appsDir, await stageApplication(source, appsDir, 'app'));
    expect((await lstat(join(staged, 'index.js'))).ino).not.toBe((await lstat(join(elsewhere, 'index.js'))).ino);
    expect((await lstat(join(staged, 'index.js'))).nlink).toBe(1);
  });

  it('copies where the installed version has a file in place of a directory, or nothing at that path', async () => {
    const home = await tempHome();
    const source = join(home, 'source');
    const appsDir = join(home, 'apps');
    await mkdir(join(appsDir, 'app'), { recursive: true });
    await writeFile(join(appsDir, 'app', 'node_modules'), 'a file where the source has a directory\n');
    await makeSource(source);
    const staged = join(appsDir, await stageApplication(source, appsDir, 'app'));
    expect(await readFile(join(staged, 'node_modules', 'tool.js'), 'utf8')).toBe('#!/usr/bin/env node\n');
    expect(await readFile(join(staged, 'index.js'), 'utf8')).toBe('console.log("v1");\n');
  });
});
