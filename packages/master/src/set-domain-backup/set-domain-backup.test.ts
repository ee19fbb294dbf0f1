import { execa } from 'execa';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tempHome } from '@flotilla/test-support';
import { createTestDomain, startMaster } from '@flotilla/test-support/domain';

const MODIFIED = 'Successfully performed the MODIFY operation for Domain Backup Policy.\nCheck the results using "set-domain-backup"';

describe('set-domain-backup', () => {
  it('prints the policy, changes it through the MASTER in either spelling, and finds the only domain by itself', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'sb', []);
    const config = await readFile(domain.configFile, 'utf8');
    await writeFile(domain.configFile, config.replace('nodes: {', 'nodes: { node2: { host: "10.0.0.12", exec: "ssh -o BatchMode=yes {host}" },'));
    const h = ['--home', home];
    const shown = await run('set-domain-backup', h);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toBe(
      [
        'Domain Backup Policy of sb',
        '  backupOnBoot : false',
        `  backupDir    : backups (${join(domain.dir, 'backups')})`,
        '  nodeName     : (none: backups stay on this machine)',
        '  keep         : 10',
        '  encryptTo    : none (boot backups are written in clear)',
        'Last boot backup: none recorded (backupOnBoot is false)',
      ].join('\n'),
    );

    await startMaster(domain);
    const changed = await run('set-domain-backup', ['sb', '-backupOnBoot', 'true', '-backupDir', '/srv/backups', '-nodeName', 'node2', '--keep', '5', ...h]);
    expect(changed.stderr).toBe('');
    expect(changed.exitCode).toBe(0);
    expect(changed.stdout).toBe(MODIFIED);
    const policy = JSON.parse((await run('set-domain-backup', ['--json', ...h])).stdout);
    expect(policy).toMatchObject({ domain: 'sb', policy: { onBoot: true, dir: '/srv/backups', directory: '/srv/backups', node: 'node2', keep: 5 }, lastBootBackup: null });
    // Only what is given changes, in one generation with the previous version in history.
    expect((await run('master', ['config', 'get', 'sb', 'backup', ...h])).stdout.trim()).toBe('{onBoot:true,dir:"/srv/backups",node:"node2",keep:5,encryptTo:[]}');

    const kebab = await run('set-domain-backup', ['--backup-on-boot', 'false', '--node-name', 'null', '-keep', '7', ...h, '--json']);
    expect(kebab.exitCode, kebab.stderr).toBe(0);
    expect(JSON.parse(kebab.stdout)).toMatchObject({ domain: 'sb', generation: 3, policy: { onBoot: false, node: null, keep: 7 } });
    const after = JSON.parse((await run('master', ['config', 'sb', '--json', ...h])).stdout).backup;
    expect(after).toEqual({ onBoot: false, dir: '/srv/backups', node: null, keep: 7, encryptTo: [] });
    expect(await readFile(domain.configFile, 'utf8')).not.toContain('node2", keep');

    // Recipients of encrypted boot backups: given (repeatable, replacing the list), then cleared.
    const keyFile = join(home, 'key.txt');
    await execa('age-keygen', ['-o', keyFile]);
    const recipient = (await execa('age-keygen', ['-y', keyFile])).stdout.trim();
    const encrypted = await run('set-domain-backup', ['-encryptTo', recipient, ...h]);
    expect(encrypted.exitCode, encrypted.stderr).toBe(0);
    expect(JSON.parse((await run('set-domain-backup', ['--json', ...h])).stdout).policy.encryptTo).toEqual([recipient]);
    expect((await run('set-domain-backup', h)).stdout).toContain(`  encryptTo    : ${recipient}`);
    const badKey = await run('set-domain-backup', ['-encryptTo', 'not-a-key', ...h]);
    expect(badKey.exitCode).toBe(2);
    expect(badKey.stderr).toContain('must be an age public key');
    const cleared = await run('set-domain-backup', ['-encryptTo', 'none', ...h]);
    expect(cleared.exitCode, cleared.stderr).toBe(0);
    expect(JSON.parse((await run('master', ['config', 'sb', '--json', ...h])).stdout).backup.encryptTo).toEqual([]);
  });

  it.each([
    [['-backupOnBoot', 'yes'], '-backupOnBoot yes: must be true or false'],
    [['--keep', '0'], '--keep 0: must be a whole number from 1 to 1000'],
    [['--keep', '1001'], '--keep 1001: must be a whole number from 1 to 1000'],
    [['--keep', '2.5'], '--keep 2.5: must be a whole number from 1 to 1000'],
    [['-backupDir', ''], '-backupDir: must be a directory path'],
    [['-backupDir', '  '], '-backupDir: must be a directory path'],
    [['-nodeName', 'node9'], '-nodeName node9: node "node9" is not defined (defined: node1)'],
    [['-nodeName', 'bad name'], 'invalid node name "bad name"'],
    [['--colour', 'blue'], 'Unknown argument: colour'],
  ])('refuses %j with exit 2 and changes nothing', async (args, message) => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'bad', []);
    await startMaster(domain);
    const before = await readFile(domain.configFile, 'utf8');
    const result = await run('set-domain-backup', ['bad', ...args, '--home', home]);
    expect(result.stderr).toContain(message);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(await readFile(domain.configFile, 'utf8')).toBe(before);
  });

  it('fails with exit 3 while the MASTER is down, and still prints the policy', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'down', []);
    const before = await readFile(domain.configFile, 'utf8');
    const result = await run('set-domain-backup', ['down', '-backupOnBoot', 'true', '--home', home]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`MASTER of down at 127.0.0.1:${domain.masterPort} is unreachable: configuration changes need the MASTER`);
    expect(await readFile(domain.configFile, 'utf8')).toBe(before);
    const shown = await run('set-domain-backup', ['down', '--home', home]);
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toContain('backupOnBoot : false');
  });

  it('asks for the domain when the home holds none or several, and follows the shared conventions', async () => {
    const home = await tempHome();
    const none = await run('set-domain-backup', ['--home', home]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain(`no domain in ${join(home, 'domains')}: name the domain`);
    await createTestDomain(home, 'one', []);
    await createTestDomain(home, 'two', []);
    const several = await run('set-domain-backup', ['--home', home]);
    expect(several.exitCode).toBe(2);
    expect(several.stderr).toContain('holds several domains (one, two): name the one to use');
    await rm(join(home, 'domains', 'two'), { recursive: true });
    expect((await run('set-domain-backup', ['--home', home])).stdout).toContain('Domain Backup Policy of one');

    const version = await run('set-domain-backup', ['--version']);
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await run('set-domain-backup', ['--help']);
    expect(help.exitCode).toBe(0);
    for (const option of ['--backupOnBoot', '--backupDir', '--nodeName', '--keep', '--home', '--json']) expect(help.stdout).toContain(option);
    const unknown = await run('set-domain-backup', ['--bogus-option']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('Run "set-domain-backup --help" for usage.');
  });
});
