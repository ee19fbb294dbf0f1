import { X509Certificate } from 'node:crypto';
import { readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tempHome } from '@flotilla/test-support';

describe('master create-domain', () => {
  it('writes the layout, a configuration that loads back, a 0600 key and the domain\'s CA', async () => {
    const home = await tempHome();
    const result = await run('master', ['create-domain', 'demo', '--home', home, '--server', 'server1:8088', '--server', 'server2:8089']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Domain [demo] created at ${join(home, 'domains', 'demo')}`);

    const dir = join(home, 'domains', 'demo');
    expect((await readdir(dir)).sort()).toEqual(['apps', 'backups', 'config', 'servers']);
    expect((await readdir(join(dir, 'config'))).sort()).toEqual(['.history', 'domain.json5', 'security']);
    const key = await stat(join(dir, 'config', 'security', 'domain.key'));
    expect(key.mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'config', 'security'))).mode & 0o777).toBe(0o700);
    const keyText = await readFile(join(dir, 'config', 'security', 'domain.key'), 'utf8');
    expect(keyText.trim()).toMatch(/^[0-9a-f]{64}$/);
    // The domain's own certificate authority: its key 0600, its certificate a CA's.
    expect((await readdir(join(dir, 'config', 'security'))).sort()).toEqual(['ca.crt', 'ca.key', 'domain.key']);
    expect((await stat(join(dir, 'config', 'security', 'ca.key'))).mode & 0o777).toBe(0o600);
    expect(new X509Certificate(await readFile(join(dir, 'config', 'security', 'ca.crt'))).ca).toBe(true);
    // No file of the domain names the home: a copied domain works anywhere.
    expect(await readFile(join(dir, 'config', 'domain.json5'), 'utf8')).not.toContain(home);

    const config = await run('master', ['config', 'demo', '--home', home, '--json']);
    expect(config.exitCode).toBe(0);
    const loaded = JSON.parse(config.stdout);
    expect(loaded.master).toEqual({ name: 'adminServer', node: 'node1', address: '0.0.0.0', port: 9736 });
    expect(loaded.servers.server1).toEqual({ node: 'node1', address: '127.0.0.1', port: 9746, http: 8088, autoRestart: true });
    expect(loaded.servers.server2.port).toBe(9756);
    expect(loaded.clusters).toEqual({ cluster1: { servers: ['server1', 'server2'] } });
    // The key is never printed.
    for (const output of [result.stdout, result.stderr, config.stdout, config.stderr]) expect(output).not.toContain(keyText.trim());
  });

  it('prints a JSON result with --json and takes the MASTER\'s address, port and node', async () => {
    const home = await tempHome();
    const result = await run('master', ['create-domain', 'd2', '--home', home, '--address', '127.0.0.5', '--port', '19736', '--node', 'box7', '--server', 'web.1:18088', '--json']);
    expect(result.exitCode).toBe(0);
    const created = JSON.parse(result.stdout);
    expect(created).toMatchObject({
      domain: 'd2',
      dir: join(home, 'domains', 'd2'),
      master: { name: 'adminServer', node: 'box7', address: '127.0.0.5', port: 19736 },
      servers: [{ name: 'web.1', node: 'box7', address: '127.0.0.1', port: 19746, http: 18088 }],
    });
    const host = await run('master', ['config', 'get', 'd2', 'nodes.box7.host', '--home', home]);
    expect(host.stdout.trim()).toBe('127.0.0.5');
  });

  it('finds the home through FLOTILLA_HOME', async () => {
    const home = await tempHome();
    const result = await run('master', ['create-domain', 'viaenv'], { env: { FLOTILLA_HOME: home } });
    expect(result.exitCode).toBe(0);
    expect((await stat(join(home, 'domains', 'viaenv', 'config', 'domain.json5'))).isFile()).toBe(true);
  });

  it('refuses an existing domain and touches nothing', async () => {
    const home = await tempHome();
    expect((await run('master', ['create-domain', 'demo', '--home', home])).exitCode).toBe(0);
    const configFile = join(home, 'domains', 'demo', 'config', 'domain.json5');
    const before = await readFile(configFile, 'utf8');
    const keyBefore = await readFile(join(home, 'domains', 'demo', 'config', 'security', 'domain.key'), 'utf8');
    const again = await run('master', ['create-domain', 'demo', '--home', home, '--port', '1234']);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain(`domain demo already exists at ${join(home, 'domains', 'demo')}; nothing was changed`);
    expect(await readFile(configFile, 'utf8')).toBe(before);
    expect(await readFile(join(home, 'domains', 'demo', 'config', 'security', 'domain.key'), 'utf8')).toBe(keyBefore);
    expect((await readdir(join(home, 'domains'))).sort()).toEqual(['demo']);
  });

  it('refuses a directory that is in the way, even an empty one', async () => {
    const home = await tempHome();
    await mkdir(join(home, 'domains', 'taken'), { recursive: true });
    await writeFile(join(home, 'domains', 'taken', 'note.txt'), 'mine');
    const result = await run('master', ['create-domain', 'taken', '--home', home]);
    expect(result.exitCode).toBe(2);
    expect(await readFile(join(home, 'domains', 'taken', 'note.txt'), 'utf8')).toBe('mine');
  });

  it.each([
    [['create-domain', '..'], 'invalid domain name ".."'],
    [['create-domain', 'a/b'], 'invalid domain name "a/b"'],
    [['create-domain', 'x'.repeat(65)], 'invalid domain name'],
    [['create-domain', 'ok', '--node', 'bad node'], 'invalid node name "bad node"'],
    [['create-domain', 'ok', '--server', 'server1'], '--server server1: expected NAME:HTTPPORT'],
    [['create-domain', 'ok', '--server', 's!:8080'], 'invalid server name "s!"'],
    [['create-domain', 'ok', '--server', 's1:70000'], 'HTTP port must be from 1 to 65535'],
    [['create-domain', 'ok', '--server', 's1:8080', '--server', 's1:8081'], '--server s1: given twice'],
    [['create-domain', 'ok', '--server', 's1:9736'], 'clashes with master.port'],
    [['create-domain', 'ok', '--port', '0'], '--port 0: must be a port from 1 to 65535'],
    [['create-domain', 'ok', '--port', 'abc'], '--port abc: must be a port from 1 to 65535'],
    [['create-domain', 'ok', '--address', '300.1.1.1'], '--address 300.1.1.1'],
    [['create-domain', 'ok', '--colour', 'blue'], 'Unknown argument: colour'],
    [['create-domain'], 'Not enough non-option arguments'],
  ])('refuses %j with exit 2: %s', async (args, message) => {
    const home = await tempHome();
    const result = await run('master', [...args, '--home', home]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
    const domains = await readdir(join(home, 'domains')).catch(() => []);
    expect(domains).toEqual([]);
  });
});
