import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, readlink, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { wholeMillis } from '@flotilla/core';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { killPid, run, start, tempHome, waitFor } from '@flotilla/test-support';
import { createDomainWithApps } from '@flotilla/test-support/domain-trees';
import { runOnTerminal } from '@flotilla/test-support/terminal';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function zipListing(file: string): Promise<string[]> {
  const listing = await execa('unzip', ['-Z1', file]);
  return listing.stdout.split('\n').sort();
}

async function manifestOf(file: string): Promise<{ files: Array<{ path: string; size: number; mode: number; sha256: string }>; links: unknown[]; dirs: Array<{ path: string }> } & Record<string, unknown>> {
  const extracted = await execa('unzip', ['-p', file, 'flotilla-backup.json'], { encoding: 'utf8' });
  return JSON.parse(extracted.stdout);
}

/** The temporary archives a pack is writing beside `dir`'s target. */
async function tempFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.tmp'));
}

describe('pack-domain', () => {
  it('writes config/ (key and history included) and apps/ with a manifest, relative paths, 0600, and unzip -t passes', async () => {
    const home = await tempHome();
    const dir = await createDomainWithApps(home);
    await writeFile(join(dir, 'config', '.history', 'domain_20260101_000000.json5'), '{ name: "domain1" }\n');
    // Left out: runtime state, the backup directory, temporary files.
    await mkdir(join(dir, 'servers', 'server1', 'cache'), { recursive: true });
    await writeFile(join(dir, 'servers', 'server1', 'cache', 'x'), 'cache');
    await writeFile(join(dir, 'backups', 'domain1_20260101.zip'), 'old backup');
    await writeFile(join(dir, 'config', '.domain.json5.123.abcd.tmp'), 'half written');

    const result = await run('pack-domain', ['domain1', '--home', home]);
    expect(result.exitCode, result.stderr).toBe(0);
    const archive = join(home, 'domains', 'domain1_packed.zip');
    expect(result.stdout).toBe(`Packing the domain [domain1] configuration completed successfully at the path [${archive}].`);
    expect(result.stderr).toBe('');
    expect((await stat(archive)).mode & 0o777).toBe(0o600);

    const tested = await execa('unzip', ['-t', archive], { reject: false });
    expect(tested.exitCode, tested.stdout).toBe(0);
    expect(tested.stdout).toContain('No errors detected');

    const expected = [
      'apps/hello/empty.txt',
      'apps/hello/index.js',
      'apps/hello/lib/blob.bin',
      'apps/hello/lib/deep/data.json',
      'config/.history/domain_20260101_000000.json5',
      'config/domain.json5',
      'config/security/ca.crt',
      'config/security/ca.key',
      'config/security/domain.key',
    ];
    expect(await zipListing(archive)).toEqual(['flotilla-backup.json', ...expected].sort());
    const manifest = await manifestOf(archive);
    expect(manifest).toMatchObject({ formatVersion: 2, domain: 'domain1', generation: null, tool: { name: 'pack-domain' } });
    expect(manifest.files.map((file) => file.path)).toEqual(expected);
    for (const file of manifest.files) {
      const content = await readFile(join(dir, file.path));
      const info = await stat(join(dir, file.path));
      expect(file, file.path).toEqual({ path: file.path, size: content.length, mode: info.mode & 0o777, mtime: wholeMillis(info.mtimeMs), sha256: sha256(content) });
    }
    expect(manifest.files.find((file) => file.path === 'config/security/domain.key')?.mode).toBe(0o600);
  });

  it('writes where -f, --file or -file says, relative to the working directory, and reports --json', async () => {
    const home = await tempHome();
    await createDomainWithApps(home);
    const out = await tempHome();
    for (const [index, flag] of ['-f', '--file', '-file'].entries()) {
      const result = await run('pack-domain', ['domain1', flag, `copy${index}.zip`, '--home', home, '--json'], { cwd: out });
      expect(result.exitCode, result.stderr).toBe(0);
      const path = join(out, `copy${index}.zip`);
      const data = await readFile(path);
      expect(JSON.parse(result.stdout)).toMatchObject({ domain: 'domain1', path, files: 8, bytes: data.length, sha256: sha256(data), generation: null });
    }
  });

  it('says clearly what is wrong (exit 2) and writes nothing', async () => {
    const home = await tempHome();
    const dir = await createDomainWithApps(home);
    const missing = await run('pack-domain', ['nosuch', '--home', home]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain(`domain nosuch does not exist in ${join(home, 'domains')} (domains there: domain1)`);

    const noDir = await run('pack-domain', ['domain1', '-f', join(home, 'no', 'such', 'dir', 'x.zip'), '--home', home]);
    expect(noDir.exitCode).toBe(2);
    expect(noDir.stderr).toContain(`cannot write the archive into ${join(home, 'no', 'such', 'dir')}: no such directory`);

    const isDir = await run('pack-domain', ['domain1', '-f', home, '--home', home]);
    expect(isDir.exitCode).toBe(2);
    expect(isDir.stderr).toContain(`${home} is a directory`);

    const noArgs = await run('pack-domain', ['--home', home]);
    expect(noArgs.exitCode).toBe(2);

    // An invalid configuration is never packed: a backup must restore.
    const configFile = join(dir, 'config', 'domain.json5');
    await writeFile(configFile, (await readFile(configFile, 'utf8')).replace('port: 9736', 'port: 99999'));
    const invalid = await run('pack-domain', ['domain1', '--home', home]);
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain('master.port: must be a port from 1 to 65535');
    expect((await readdir(join(home, 'domains'))).sort()).toEqual(['domain1']);
  });

  it('keeps relative links inside an application, empty directories, modification times and modes, for unpack-domain and for unzip', async () => {
    const home = await tempHome();
    const dir = await createDomainWithApps(home);
    const app = join(dir, 'apps', 'hello');
    await mkdir(join(app, 'node_modules', '.bin'), { recursive: true });
    await mkdir(join(app, 'node_modules', 'mime'), { recursive: true });
    await writeFile(join(app, 'node_modules', 'mime', 'cli.js'), '#!/usr/bin/env node\n', { mode: 0o755 });
    await symlink('../mime/cli.js', join(app, 'node_modules', '.bin', 'mime'));
    await mkdir(join(app, 'uploads'), { mode: 0o750 });
    const old = new Date('2001-02-03T04:05:06.789Z');
    await utimes(join(app, 'node_modules', 'mime', 'cli.js'), old, old);
    await utimes(join(app, 'uploads'), old, old);
    const archive = join(home, 'backup.zip');
    const packed = await run('pack-domain', ['domain1', '--home', home, '-f', archive]);
    expect(packed.exitCode, packed.stderr).toBe(0);
    const manifest = await manifestOf(archive);
    expect(manifest.links).toEqual([{ path: 'apps/hello/node_modules/.bin/mime', target: '../mime/cli.js' }]);
    expect(manifest.dirs.filter((entry) => entry.path.startsWith('apps/'))).toEqual([{ path: 'apps/hello/uploads', mode: 0o750, mtime: old.getTime() }]);

    const restored = await tempHome();
    const unpacked = await run('unpack-domain', ['-f', archive, '--home', restored, '--yes']);
    expect(unpacked.exitCode, unpacked.stderr).toBe(0);
    const unzipped = await tempHome();
    const extracted = await execa('unzip', ['-q', archive, '-d', unzipped], { reject: false });
    expect(extracted.exitCode, extracted.stderr).toBe(0);
    for (const root of [join(restored, 'domains', 'domain1'), unzipped]) {
      const there = join(root, 'apps', 'hello');
      expect(await readlink(join(there, 'node_modules', '.bin', 'mime')), root).toBe('../mime/cli.js');
      expect(await readFile(join(there, 'node_modules', '.bin', 'mime'), 'utf8'), root).toBe('#!/usr/bin/env node\n');
      const cli = await stat(join(there, 'node_modules', 'mime', 'cli.js'));
      expect(cli.mode & 0o777, root).toBe(0o755);
      const uploads = await stat(join(there, 'uploads'));
      expect(uploads.isDirectory(), root).toBe(true);
      expect(uploads.mode & 0o777, root).toBe(0o750);
      // unpack-domain keeps the millisecond; unzip reads the zip's times, to the second.
      const precision = root === unzipped ? 1000 : 1;
      expect(Math.floor(cli.mtimeMs / precision), root).toBe(Math.floor(old.getTime() / precision));
      expect(Math.floor(uploads.mtimeMs / precision), root).toBe(Math.floor(old.getTime() / precision));
    }
  });

  it('refuses an absolute symbolic link, or one that leaves its application (exit 1), rather than follow it out of the domain', async () => {
    const home = await tempHome();
    const dir = await createDomainWithApps(home);
    await symlink('/etc', join(dir, 'apps', 'hello', 'etc'));
    const result = await run('pack-domain', ['domain1', '--home', home]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`cannot pack apps/hello/etc in ${dir}: it is an absolute symbolic link`);
    await rm(join(dir, 'apps', 'hello', 'etc'));
    await symlink('../../../config/security/domain.key', join(dir, 'apps', 'hello', 'lib', 'key'));
    const leaving = await run('pack-domain', ['domain1', '--home', home]);
    expect(leaving.exitCode).toBe(1);
    expect(leaving.stderr).toContain(`cannot pack apps/hello/lib/key in ${dir}: it is a symbolic link (apps/hello/lib/key -> "../../../config/security/domain.key") that leaves the application apps/hello`);
    expect(await readdir(join(home, 'domains'))).toEqual(['domain1']);
  });

  it('killed midway (SIGKILL) leaves the previous archive untouched, and the next pack, under any name, cleans up after it', async () => {
    const home = await tempHome();
    const dir = await createDomainWithApps(home);
    const domains = join(home, 'domains');
    const archive = join(domains, 'domain1_packed.zip');
    expect((await run('pack-domain', ['domain1', '--home', home])).exitCode).toBe(0);
    const previous = await readFile(archive);
    await writeFile(join(dir, 'apps', 'hello', 'index.js'), 'changed since the last pack\n');

    const pack = start('pack-domain', ['domain1', '--home', home], { env: { FLOTILLA_TEST_PACK_PAUSE_MS: '600000' } });
    // The manifest is in the temporary file: the pack is midway.
    const temp = await waitFor('a partly written archive', async () => {
      const temps = await tempFiles(domains);
      return temps.length === 1 && (await stat(join(domains, temps[0]!))).size > 0 ? temps[0] : undefined;
    });
    killPid(pack.pid, 'SIGKILL');
    expect((await pack).signal).toBe('SIGKILL');
    expect(await readFile(archive)).toEqual(previous);
    expect(await tempFiles(domains)).toEqual([temp]);

    // The next pack cleans up whatever its own target's name: a cron job names each archive anew.
    const stamped = join(domains, 'domain1_20261202_120000.zip');
    const again = await run('pack-domain', ['domain1', '--home', home, '-f', stamped]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await tempFiles(domains)).toEqual([]);
    expect(await readFile(archive)).toEqual(previous);
    expect((await manifestOf(stamped)).files.find((file) => file.path === 'apps/hello/index.js')?.sha256).toBe(
      sha256(Buffer.from('changed since the last pack\n')),
    );
  });

  it('notices a file that changes while it is packed: packs again once, and gives up if it changes again', async () => {
    const home = await tempHome();
    const dir = await createDomainWithApps(home);
    const domains = join(home, 'domains');
    const last = join(dir, 'apps', 'zz', 'last.txt');
    await mkdir(join(dir, 'apps', 'zz'));
    await writeFile(last, 'version 1\n');

    // The pause before each file leaves seconds between the listing and the last file's turn.
    const env = { FLOTILLA_TEST_PACK_PAUSE_MS: '400' };
    const once = start('pack-domain', ['domain1', '--home', home], { env });
    await waitFor('the first attempt', async () => (await tempFiles(domains)).length > 0);
    await writeFile(last, 'version 2\n');
    const result = await once;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const manifest = await manifestOf(join(domains, 'domain1_packed.zip'));
    expect(manifest.files.find((file) => file.path === 'apps/zz/last.txt')?.sha256).toBe(sha256(Buffer.from('version 2\n')));

    const twice = start('pack-domain', ['domain1', '--home', home], { env });
    const attempt1 = await waitFor('the first attempt', async () => (await tempFiles(domains))[0]);
    await writeFile(last, 'version 3\n');
    await waitFor('the second attempt', async () => (await tempFiles(domains)).some((name) => name !== attempt1));
    await writeFile(last, 'version 4\n');
    const failed = await twice;
    expect(failed.exitCode).toBe(1);
    expect(String(failed.stderr)).toContain('cannot pack a consistent backup of domain1: apps/zz/last.txt changed while it was being packed, twice in a row');
    expect(await tempFiles(domains)).toEqual([]);
  });

  it('shows progress on a terminal once packing takes more than a second, packing then verifying, and never when stderr is not one', async () => {
    const home = await tempHome();
    await createDomainWithApps(home);
    // The pause also comes once before the verification, so that its line is drawn too.
    const env = { FLOTILLA_TEST_PACK_PAUSE_MS: '400' };
    const terminal = runOnTerminal('pack-domain', ['domain1', '--home', home], env);
    await terminal.waitForText('Packing domain1: ');
    expect(await terminal.exited).toBe(0);
    expect(terminal.output()).toMatch(/Packing domain1: \d+\/8 files, [\d.]+ \w+ of [\d.]+ \w+ \(\d+%\)/);
    expect(terminal.output()).toMatch(/Verifying the archive of domain1: \d+\/8 files, [\d.]+ \w+ of [\d.]+ \w+ \(\d+%\)/);
    expect(terminal.output().indexOf('Verifying the archive')).toBeGreaterThan(terminal.output().indexOf('Packing domain1: '));
    expect(terminal.output()).toContain('Packing the domain [domain1] configuration completed successfully');

    const piped = await run('pack-domain', ['domain1', '--home', home], { env });
    expect(piped.exitCode).toBe(0);
    expect(piped.stderr).toBe('');
  });
});
