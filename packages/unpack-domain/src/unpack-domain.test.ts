import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { execa } from 'execa';
import JSON5 from 'json5';
import { describe, expect, it } from 'vitest';
import { killPid, onCleanup, run, start, tempHome, waitFor } from '@flotilla/test-support';
import { freePorts } from '@flotilla/test-support/domain';
import { createDomainWithApps, filesUnder, snapshot } from '@flotilla/test-support/domain-trees';

/** A domain with applications packed in one home: the archive every restore test starts from. */
async function packedDomain(): Promise<{ home: string; dir: string; archive: string }> {
  const home = await tempHome();
  const dir = await createDomainWithApps(home);
  const packed = await run('pack-domain', ['domain1', '--home', home]);
  expect(packed.exitCode, packed.stderr).toBe(0);
  return { home, dir, archive: join(home, 'domains', 'domain1_packed.zip') };
}

async function configOf(home: string): Promise<Record<string, any>> {
  return JSON5.parse(await readFile(join(home, 'domains', 'domain1', 'config', 'domain.json5'), 'utf8'));
}

describe('unpack-domain', () => {
  it('restores config/ and apps/ byte for byte, modes included, into another home that master config loads', async () => {
    const { dir, archive } = await packedDomain();
    // A different path and a different depth: nothing in the domain may depend on where it was.
    const otherHome = join(await tempHome(), 'elsewhere', 'home');
    const restored = await run('unpack-domain', ['-f', archive, '--home', otherHome]);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.stdout).toBe('Unpacking the domain [domain1] configuration completed successfully.');
    expect(restored.stderr).toBe('');

    const original = filesUnder(await snapshot(dir), 'config', 'apps');
    const copy = await snapshot(join(otherHome, 'domains', 'domain1'));
    expect(filesUnder(copy, 'config', 'apps')).toEqual(original);
    expect(copy['config/security/domain.key']?.mode).toBe(0o600);
    expect(copy['apps/hello/index.js']?.mode).toBe(0o755);
    expect(copy['config/security/']?.mode).toBe(0o700);
    expect(Object.keys(copy)).toContain('servers/');

    const config = await run('master', ['config', 'domain1', '--home', otherHome, '--json']);
    expect(config.exitCode, config.stderr).toBe(0);
    expect(JSON.parse(config.stdout)).toMatchObject({ name: 'domain1', master: { node: 'node1', port: 9736 } });
  });

  it('round-trips large files, deflated in parallel blocks or stored, and zip tools agree', async () => {
    const home = await tempHome();
    const dir = await createDomainWithApps(home);
    const lines = Array.from({ length: 120_000 }, (_, i) => `${i % 977} request served in ${(i * 7919) % 1000} ms\n`).join('');
    await writeFile(join(dir, 'apps', 'hello', 'access.log'), lines); // several 1 MiB blocks
    await writeFile(join(dir, 'apps', 'hello', 'bundle.jar'), randomBytes(3 * 1024 * 1024 + 5), { mode: 0o640 });
    const packed = await run('pack-domain', ['domain1', '--home', home]);
    expect(packed.exitCode, packed.stderr).toBe(0);
    const archive = join(home, 'domains', 'domain1_packed.zip');
    expect((await execa('unzip', ['-t', archive], { reject: false })).exitCode).toBe(0);
    const listing = (await execa('zipinfo', [archive])).stdout;
    expect(listing).toMatch(/defN .* apps\/hello\/access\.log/);
    expect(listing).toMatch(/-rw-r----- .* stor .* apps\/hello\/bundle\.jar/);

    const otherHome = await tempHome();
    const restored = await run('unpack-domain', ['-f', archive, '--home', otherHome]);
    expect(restored.exitCode, restored.stderr).toBe(0);
    const copy = await snapshot(join(otherHome, 'domains', 'domain1'));
    expect(filesUnder(copy, 'config', 'apps')).toEqual(filesUnder(await snapshot(dir), 'config', 'apps'));
  });

  it('applies --address, --port and --node, renaming the node everywhere and keeping the packed file in .history', async () => {
    const { archive } = await packedDomain();
    const home = await tempHome();
    const restored = await run('unpack-domain', ['domain1', '-f', archive, '--home', home, '--address', '127.0.0.1', '--port', '9900', '--node', 'nodeB', '--json']);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({
      domain: 'domain1',
      dir: join(home, 'domains', 'domain1'),
      archive,
      master: { address: '127.0.0.1', port: 9900, node: 'nodeB' },
      replaced: null,
    });

    const config = await configOf(home);
    expect(config.master).toMatchObject({ address: '127.0.0.1', port: 9900, node: 'nodeB' });
    expect(Object.keys(config.nodes)).toEqual(['nodeB']);
    expect(config.servers.server1.node).toBe('nodeB');
    const history = await readdir(join(home, 'domains', 'domain1', 'config', '.history'));
    expect(history).toHaveLength(1);
    const kept = await readFile(join(home, 'domains', 'domain1', 'config', '.history', history[0]!), 'utf8');
    expect(JSON5.parse(kept).master.node).toBe('node1');

    const loaded = await run('master', ['config', 'get', 'domain1', 'master.port', '--home', home]);
    expect(loaded.stdout.trim()).toBe('9900');
  });

  it('reads <home>/domains/<domain>_packed.zip when only the domain is named, and keeps the values without a terminal', async () => {
    const { archive } = await packedDomain();
    const home = await tempHome();
    await mkdir(join(home, 'domains'));
    await copyFile(archive, join(home, 'domains', 'domain1_packed.zip'));
    const restored = await run('unpack-domain', ['domain1', '--home', home]);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.stderr).toBe('');
    expect((await configOf(home)).master).toMatchObject({ address: '0.0.0.0', port: 9736, node: 'node1' });
  });

  it('leaves a domain that master start runs, at another home path and a new port', async () => {
    const { archive } = await packedDomain();
    const home = join(await tempHome(), 'new', 'machine');
    const [port] = await freePorts(1);
    const restored = await run('unpack-domain', ['-f', archive, '--home', home, '--address', '127.0.0.1', '--port', String(port)]);
    expect(restored.exitCode, restored.stderr).toBe(0);

    const started = await run('master', ['start', 'domain1', '--detach', '--json', '--home', home]);
    expect(started.exitCode, started.stderr).toBe(0);
    const { pid } = JSON.parse(started.stdout) as { pid: number };
    onCleanup(() => killPid(pid));
    const status = await run('master', ['status', 'domain1', '--json', '--home', home]);
    expect(JSON.parse(status.stdout).servers[0]).toMatchObject({ name: 'adminServer', status: 'RUNNING', address: '127.0.0.1', port });
    const stopped = await run('master', ['stop', 'domain1', '--home', home]);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
  });

  it('refuses -overwrite and -delete while a server of the domain runs in this home (exit 1, untouched)', async () => {
    const { home, dir } = await packedDomain();
    const started = await run('master', ['start', 'domain1', '--home', home, '--detach', '--json']);
    expect(started.exitCode, started.stderr).toBe(0);
    const { pid } = JSON.parse(started.stdout);
    onCleanup(() => killPid(pid));
    const before = await snapshot(dir);
    for (const flag of ['-overwrite', '-delete']) {
      const refused = await run('unpack-domain', ['domain1', '--home', home, flag]);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain(`domain domain1 has servers running in this home: adminServer (pid ${pid}); nothing was changed`);
    }
    const after = await snapshot(dir);
    expect(filesUnder(after, 'config', 'apps')).toEqual(filesUnder(before, 'config', 'apps'));
  });

  it('refuses an existing domain unless -overwrite or -delete, and then replaces it as each says', async () => {
    const { home, dir } = await packedDomain();
    const packedState = filesUnder(await snapshot(dir), 'config', 'apps');
    // Changes made after the pack: a backup file edited, an app file and a server file added.
    await writeFile(join(dir, 'apps', 'hello', 'index.js'), 'edited after the pack\n');
    await writeFile(join(dir, 'apps', 'hello', 'added.txt'), 'not in the backup\n');
    await mkdir(join(dir, 'servers', 'server1', 'logs'), { recursive: true });
    await writeFile(join(dir, 'servers', 'server1', 'logs', 'server.log'), 'runtime state\n');
    const before = await snapshot(dir);

    const refused = await run('unpack-domain', ['domain1', '--home', home]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`domain domain1 already exists at ${dir}; nothing was changed`);
    expect(refused.stderr).toContain('-overwrite');
    expect(await snapshot(dir)).toEqual(before);

    const overwritten = await run('unpack-domain', ['domain1', '--home', home, '-overwrite', '--json']);
    expect(overwritten.exitCode, overwritten.stderr).toBe(0);
    expect(JSON.parse(overwritten.stdout).replaced).toBe('overwrite');
    const afterOverwrite = await snapshot(dir);
    expect(afterOverwrite['apps/hello/index.js']).toEqual(packedState['apps/hello/index.js']);
    expect(afterOverwrite['apps/hello/added.txt']).toEqual(before['apps/hello/added.txt']);
    expect(afterOverwrite['servers/server1/logs/server.log']).toEqual(before['servers/server1/logs/server.log']);

    const deleted = await run('unpack-domain', ['domain1', '--home', home, '-delete']);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    const afterDelete = await snapshot(dir);
    expect(filesUnder(afterDelete, 'config', 'apps')).toEqual(packedState);
    expect(afterDelete['apps/hello/added.txt']).toBeUndefined();
    expect(afterDelete['servers/server1/logs/server.log']).toBeUndefined();
    // No staging or set-aside directory is left beside the domain.
    expect((await readdir(join(home, 'domains'))).sort()).toEqual(['domain1', 'domain1_packed.zip']);
  });

  it('says clearly what is wrong with the command line (exit 2), changing nothing', async () => {
    const { archive } = await packedDomain();
    const home = await tempHome();
    const cases: Array<{ args: string[]; message: string }> = [
      { args: [], message: 'name the domain to restore' },
      { args: ['domain1'], message: `there is no backup of domain1 at ${join(home, 'domains', 'domain1_packed.zip')}` },
      { args: ['-f', join(home, 'nope.zip')], message: `${join(home, 'nope.zip')} does not exist` },
      { args: ['-f', home], message: `${home} is not a file` },
      { args: ['other', '-f', archive], message: `${archive} holds domain domain1, not other` },
      { args: ['-f', archive, '--port', '70000'], message: '--port 70000: must be a port from 1 to 65535' },
      { args: ['-f', archive, '--port', 'abc'], message: '--port abc: must be a port from 1 to 65535' },
      { args: ['-f', archive, '--address', '300.1.1.1'], message: '--address 300.1.1.1: must be an IPv4 or IPv6 address or a host name' },
      { args: ['-f', archive, '--node', 'no/de'], message: 'invalid node name "no/de"' },
      { args: ['-f', archive, '-overwrite', '-delete'], message: 'mutually exclusive' },
      { args: ['-f', archive, '--master', '9'], message: 'Unknown argument' },
    ];
    for (const { args, message } of cases) {
      const result = await run('unpack-domain', [...args, '--home', home]);
      expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(message);
    }
    expect(await readdir(home)).toEqual([]);
  });

  it('refuses new settings that make the configuration invalid (exit 2), changing nothing', async () => {
    const { archive } = await packedDomain();
    const home = await tempHome();
    // server1's management port is 9746 on node1 at 127.0.0.1: the MASTER cannot take it too.
    const result = await run('unpack-domain', ['-f', archive, '--home', home, '--address', '127.0.0.1', '--port', '9746']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('the new MASTER settings make an invalid configuration; nothing was changed');
    expect(result.stderr).toContain('clashes with');
    expect(await readdir(join(home, 'domains'))).toEqual([]);
  });

  it('what a killed restore or pack leaves is recognisable, and the next run of either in that directory removes it', async () => {
    const { home, archive } = await packedDomain();
    const domains = join(home, 'domains');
    const leftovers = async () => (await readdir(domains)).filter((name) => name.startsWith('.flotilla-'));

    const restore = start('unpack-domain', ['-f', archive, '--home', home, '-delete'], { env: { FLOTILLA_TEST_UNPACK_PAUSE_MS: '600000' } });
    const staging = await waitFor('a restore midway', async () => {
      const names = await leftovers();
      return names.length === 1 && (await readdir(join(domains, names[0]!), { recursive: true })).length > 0 ? names[0] : undefined;
    });
    expect(staging).toMatch(/^\.flotilla-unpack-\d+-[0-9a-f]+\.domain1\.tmp$/);
    killPid(restore.pid, 'SIGKILL');
    expect((await restore).signal).toBe('SIGKILL');

    // A pack into that directory removes the killed restore's staging before it writes.
    const pack = start('pack-domain', ['domain1', '--home', home, '-f', join(domains, 'other-name.zip')], { env: { FLOTILLA_TEST_PACK_PAUSE_MS: '600000' } });
    await waitFor('a pack midway', async () => (await leftovers()).some((name) => name.startsWith('.flotilla-pack-')));
    killPid(pack.pid, 'SIGKILL');
    expect((await pack).signal).toBe('SIGKILL');
    const left = await leftovers();
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^\.flotilla-pack-\d+-[0-9a-f]+\.other-name\.zip\.tmp$/);

    // A restore cleans up the killed pack's archive, then does its work.
    const restored = await run('unpack-domain', ['-f', archive, '--home', home, '-delete']);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(await leftovers()).toEqual([]);
    expect(await readdir(domains)).not.toContain('other-name.zip');
  });
});
