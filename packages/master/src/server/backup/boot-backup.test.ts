import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { run, tempHome } from '@flotilla/test-support';
import { createTestDomain } from '@flotilla/test-support/domain';
import { SSH_LIKE_WRAPPER, bootBackups, bootWithBackup as boot, type BootRecord, withNodes, writeScript, zipListing, zipManifest, zipTest } from '@flotilla/test-support/backup';

describe('backup on boot', () => {
  it('writes a verified backup at every boot into backup.dir and keeps the newest backup.keep', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'bb', ['server1'], '  backup: { onBoot: true, keep: 2 },\n');
    await mkdir(join(domain.dir, 'apps', 'hello'), { recursive: true });
    await writeFile(join(domain.dir, 'apps', 'hello', 'index.js'), 'console.log("hi");\n');
    const backups = join(domain.dir, 'backups');
    await writeFile(join(backups, 'notes.txt'), 'not a boot backup: never pruned');

    const files: string[] = [];
    let last: BootRecord | undefined;
    for (let i = 0; i < 3; i++) {
      const { record, master } = await boot(domain, last);
      expect(record, master.stderr()).toMatchObject({ outcome: 'written', place: 'backup-dir' });
      expect(record.file).toMatch(/^bb_\d{8}_\d{6}(_\d+)?\.zip$/);
      expect(master.stderr()).toContain(`[MA-0090] boot backup ${record.file} of generation 1 written to ${join(backups, record.file!)}`);
      files.push(record.file!);
      last = record;
    }
    expect(await bootBackups(backups, 'bb')).toEqual(files.slice(1).sort());
    expect(await readdir(backups)).toContain('notes.txt');

    const newest = join(backups, files[2]!);
    const tested = await zipTest(newest);
    expect(tested.exitCode, tested.stdout).toBe(0);
    expect((await stat(newest)).mode & 0o777).toBe(0o600);
    expect(await zipListing(newest)).toEqual([
      'apps/hello/index.js',
      // Empty directories are kept as directory entries.
      'config/.history/',
      'config/domain.json5',
      'config/generation.json',
      'config/security/ca.crt',
      'config/security/ca.key',
      'config/security/domain.key',
      'flotilla-backup.json',
    ]);
    expect(await zipManifest(newest)).toMatchObject({ domain: 'bb', generation: 1, tool: { name: 'master' } });

    const shown = await run('set-domain-backup', ['bb', '--home', home]);
    expect(shown.stdout).toContain(`  file         : ${files[2]} (generation 1, `);
    expect(shown.stdout).toContain(`  where        : ${newest}`);
  });

  it('copies to backup.node through its exec, and keeps the file in <home>/domains/ when that fails', async () => {
    const home = await tempHome();
    const scripts = await tempHome();
    const remote = join(scripts, 'remote', 'backups');
    const domain = await createTestDomain(home, 'bn', []);
    const wrapper = await writeScript(scripts, 'wrapper', `echo "$1" >> ${join(scripts, 'hosts')}\n${SSH_LIKE_WRAPPER}`);
    await withNodes(domain, `node2: { host: "10.9.8.7", exec: "${wrapper} {host}" }, `, `{ onBoot: true, node: "node2", dir: "${remote}", keep: 1 }`);

    const first = await boot(domain);
    expect(first.record, first.master.stderr()).toMatchObject({ outcome: 'written', place: 'node' });
    const second = await boot(domain, first.record);
    expect(await readdir(remote)).toEqual([second.record.file]);
    const copied = join(remote, second.record.file!);
    expect((await zipTest(copied)).exitCode).toBe(0);
    expect((await stat(copied)).mode & 0o777).toBe(0o600);
    expect((await readFile(join(scripts, 'hosts'), 'utf8')).trim().split('\n')).toEqual(['10.9.8.7', '10.9.8.7']);
    // Nothing waits in the home once the node has the file.
    expect(await bootBackups(join(home, 'domains'), 'bn')).toEqual([]);
    expect((await run('set-domain-backup', ['--home', home])).stdout).toContain(`  where        : node2:${copied}`);

    await writeScript(scripts, 'wrapper', 'echo "ssh: connect to host $1 port 22: No route to host" >&2\nexit 1');
    const failed = await boot(domain, second.record);
    expect(failed.record).toMatchObject({ outcome: 'kept-in-home', place: 'domains-home' });
    expect(failed.record.copyFailure).toContain('exit 1: ssh: connect to host 10.9.8.7 port 22: No route to host');
    const kept = join(home, 'domains', failed.record.file!);
    expect((await zipTest(kept)).exitCode).toBe(0);
    expect(failed.master.stderr()).toContain(`[MA-0091] boot backup ${failed.record.file} could not be copied to node node2`);
    expect(await readdir(remote)).toEqual([second.record.file]);

    const shown = await run('set-domain-backup', ['bn', '--home', home]);
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toContain(`  where        : ${kept}`);
    expect(shown.stdout).toContain(`  copy to node2 failed: "${wrapper} {host}" on node node2 failed: exit 1: ssh: connect to host 10.9.8.7 port 22: No route to host; kept in ${kept} instead`);
    const json = JSON.parse((await run('set-domain-backup', ['bn', '--home', home, '--json'])).stdout);
    expect(json.lastBootBackup).toMatchObject({ outcome: 'kept-in-home', node: 'node2', location: kept });
  });

  it('encrypts boot backups for backup.encryptTo, which the age tool decrypts; a key that is not an age key is refused (exit 2)', async () => {
    const home = await tempHome();
    const keyFile = join(home, 'backup-key.txt');
    await execa('age-keygen', ['-o', keyFile]);
    const recipient = (await execa('age-keygen', ['-y', keyFile])).stdout.trim();
    const domain = await createTestDomain(home, 'be', ['server1'], `  backup: { onBoot: true, keep: 2, encryptTo: ["${recipient}"] },\n`);

    const { record, master } = await boot(domain);
    expect(record, master.stderr()).toMatchObject({ outcome: 'written', place: 'backup-dir' });
    expect(record.file).toMatch(/^be_\d{8}_\d{6}(_\d+)?\.zip\.age$/);
    const backups = join(domain.dir, 'backups');
    // Only the encrypted file: nothing in clear is left beside it.
    expect(await readdir(backups)).toEqual([record.file]);
    const plain = join(home, 'plain.zip');
    await execa('age', ['-d', '-i', keyFile, '-o', plain, join(backups, record.file!)]);
    expect((await zipTest(plain)).exitCode).toBe(0);
    expect(await zipListing(plain)).toContain('config/security/domain.key');

    const config = await readFile(domain.configFile, 'utf8');
    await writeFile(domain.configFile, config.replace(recipient, 'not-a-key'));
    const refused = await run('master', ['config', 'be', '--home', home]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('backup.encryptTo[0]: must be an age public key');
  });
});
