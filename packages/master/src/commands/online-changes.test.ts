import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, freePorts, managedStatus, masterStatus, startManaged, startMaster } from '@flotilla/test-support/domain';

describe('online configuration changes through the MASTER', () => {
  it('add-server, add-cluster, config set and remove-server: validated, written with history, pushed', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'oc', ['server1']);
    await startMaster(domain);
    await startManaged(home, 'oc', 'server1');
    await waitFor('MANAGED', async () => (await managedStatus(home, 'oc', 'server1')).mode === 'MANAGED');
    const [port, http] = await freePorts(2);
    const h = ['--home', home];

    const added = await run('master', ['add-server', 'oc', 'server2', '--node', 'node1', '--address', '127.0.0.1', '--port', String(port), '--http', String(http), '--cluster', 'cluster1', ...h, '--json']);
    expect(added.stderr).toBe('');
    expect(JSON.parse(added.stdout)).toMatchObject({ domain: 'oc', generation: 2, change: { op: 'add-server', server: 'server2' } });
    const table = await masterStatus(domain);
    expect(table.servers.map((row: any) => row.name)).toEqual(['adminServer', 'server1', 'server2']);
    expect(table.servers[2]).toMatchObject({ status: 'SHUTDOWN', cluster: 'cluster1', port, http });

    const cluster = await run('master', ['add-cluster', 'oc', 'solo', '--servers', 'server2', ...h]);
    expect(cluster.exitCode).toBe(2); // server2 is already in cluster1: one cluster per server
    expect(cluster.stderr).toContain('already in cluster "cluster1"');

    expect((await run('master', ['config', 'set', 'oc', 'backup.keep', '7', ...h])).exitCode).toBe(0);
    expect((await run('master', ['config', 'get', 'oc', 'backup.keep', ...h])).stdout.trim()).toBe('7');
    await waitFor('server1 at generation 3', async () => (await managedStatus(home, 'oc', 'server1')).generation === 3);

    const busy = await run('master', ['remove-server', 'oc', 'server1', ...h]);
    expect(busy.exitCode).toBe(2);
    expect(busy.stderr).toContain('server server1 is RUNNING; stop it first (managed stop oc server1)');
    const removed = await run('master', ['remove-server', 'oc', 'server2', ...h]);
    expect(removed.exitCode).toBe(0);
    const config = JSON.parse((await run('master', ['config', 'oc', ...h, '--json'])).stdout);
    expect(Object.keys(config.servers)).toEqual(['server1']);
    expect(config.clusters.cluster1.servers).toEqual(['server1']);
    expect((await readdir(join(domain.dir, 'config', '.history'))).length).toBe(3);
  });

  it('config set keeps the operator\'s comments and layout when the setting is already written', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'oc4', ['server1'], '  // Keep a fortnight of boot backups: the auditors ask.\n  backup: { keep: 14, onBoot: false },\n');
    await startMaster(domain);
    expect((await run('master', ['config', 'set', 'oc4', 'backup.keep', '21', '--home', home])).exitCode).toBe(0);
    const text = await readFile(domain.configFile, 'utf8');
    expect(text).toContain('  // Keep a fortnight of boot backups: the auditors ask.\n  backup: { keep: 21, onBoot: false },');
    expect((await run('master', ['config', 'get', 'oc4', 'backup.keep', '--home', home])).stdout.trim()).toBe('21');
  });

  it.each([
    [['config', 'set', 'oc2', 'backup.keep', '0'], 'backup.keep: must be from 1 to 1000, got number 0'],
    [['config', 'set', 'oc2', 'servers.server1.colour', '"blue"'], 'unknown key "colour"'],
    [['config', 'set', 'oc2', 'name', 'other'], 'does not match its directory "oc2"'],
    [['add-server', 'oc2', 'server1', '--node', 'node1', '--address', '127.0.0.1', '--port', '1', '--http', '2'], 'server server1 already exists'],
    [['add-server', 'oc2', 'server9', '--node', 'node7', '--address', '127.0.0.1', '--port', '1', '--http', '2'], 'node "node7" is not defined'],
    [['add-server', 'oc2', 'server9', '--node', 'node1', '--address', '127.0.0.1', '--port', 'x', '--http', '2'], '--port x: must be a port from 1 to 65535'],
    [['remove-server', 'oc2', 'ghost'], 'server ghost is not defined'],
    [['add-cluster', 'oc2', 'cluster1', '--servers', 'server1'], 'cluster cluster1 already exists'],
  ])('refuses %j with exit 2, the file untouched', async (args, message) => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'oc2', ['server1']);
    await startMaster(domain);
    const before = await readFile(domain.configFile, 'utf8');
    const result = await run('master', [...args, '--home', home]);
    expect(result.stderr).toContain(message);
    expect(result.exitCode).toBe(2);
    expect(await readFile(domain.configFile, 'utf8')).toBe(before);
  });

  it.each([
    [['config', 'set', 'oc3', 'backup.keep', '20']],
    [['add-server', 'oc3', 's2', '--node', 'node1', '--address', '127.0.0.1', '--port', '40001', '--http', '40002']],
    [['remove-server', 'oc3', 'server1']],
    [['add-cluster', 'oc3', 'c2', '--servers', 'server1']],
  ])('%j with the MASTER down: exit 3, nothing changed', async (args) => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'oc3', ['server1']);
    const before = await readFile(domain.configFile, 'utf8');
    const result = await run('master', [...args, '--home', home]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`MASTER of oc3 at 127.0.0.1:${domain.masterPort} is unreachable: configuration changes need the MASTER`);
    expect(await readFile(domain.configFile, 'utf8')).toBe(before);
  });
});
