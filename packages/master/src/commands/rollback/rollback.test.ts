import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, managedStatus, masterStatus, readKey, startManaged, startMaster } from '@flotilla/test-support/domain';
import { domainCa, sendRaw, signedFor } from '@flotilla/test-support/management';

interface History {
  domain: string;
  current: { generation: number; sha256: string };
  versions: Array<{ version: string; replacedAt: string; sha256: string }>;
}

describe('master history and master rollback', () => {
  it('lists the versions two changes kept, brings the first change back as a new generation the servers get, and shows it', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'hr', ['server1']);
    const h = ['--home', home];
    await startMaster(domain);
    await startManaged(home, 'hr', 'server1');
    await waitFor('MANAGED', async () => (await managedStatus(home, 'hr', 'server1')).mode === 'MANAGED');

    for (const keep of ['11', '12']) expect((await run('master', ['config', 'set', 'hr', 'backup.keep', keep, ...h])).exitCode).toBe(0);
    const listed = await run('master', ['history', 'hr', ...h, '--json']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const history = JSON.parse(listed.stdout) as History;
    expect(history.current.generation).toBe(3);
    // The configuration as created, then as the first change left it.
    expect(history.versions).toHaveLength(2);
    const [created, firstChange] = history.versions;
    expect(await readFile(join(domain.dir, 'config', '.history', `${firstChange!.version}.json5`), 'utf8')).toMatch(/keep: 11\b/);

    const rolled = await run('master', ['rollback', 'hr', firstChange!.version, ...h, '--json']);
    expect(rolled.exitCode, rolled.stderr).toBe(0);
    expect(JSON.parse(rolled.stdout)).toEqual({ domain: 'hr', generation: 4, version: firstChange!.version });
    expect((await run('master', ['config', 'get', 'hr', 'backup.keep', ...h])).stdout.trim()).toBe('11');

    // The server takes it as any change: generation 4, with the configuration of the first change.
    await waitFor('server1 at generation 4', async () => (await managedStatus(home, 'hr', 'server1')).generation === 4);
    const cache = join(domain.dir, 'servers', 'server1', 'cache');
    const generation = (await readdir(cache)).find((name) => name.startsWith('gen-4-'))!;
    expect(await readFile(join(cache, generation, 'files', 'config', 'domain.json5'), 'utf8')).toMatch(/keep: 11\b/);

    // The rollback has its own history entry (the configuration it replaced), and the version it brought back is the current one.
    const after = JSON.parse((await run('master', ['history', 'hr', ...h, '--json'])).stdout) as History;
    expect(after.versions.map((entry) => entry.version).slice(0, 2)).toEqual([created!.version, firstChange!.version]);
    expect(after.versions).toHaveLength(3);
    expect(await readFile(join(domain.dir, 'config', '.history', `${after.versions[2]!.version}.json5`), 'utf8')).toMatch(/keep: 12\b/);
    expect(after.current).toMatchObject({ generation: 4, sha256: firstChange!.sha256 });
    const human = await run('master', ['history', 'hr', ...h]);
    expect(human.stdout).toMatch(new RegExp(`${firstChange!.version}\\s.*same as the current configuration`));
    expect(human.stdout).toContain('current: generation 4');
  });

  it('refuses an unknown version, one that cannot come back (exit 2) and a MASTER that is down (exit 3), changing nothing', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'hx', ['server1']);
    const h = ['--home', home];
    const master = await startMaster(domain);
    expect((await run('master', ['config', 'set', 'hx', 'backup.keep', '11', ...h])).exitCode).toBe(0);
    const before = await readFile(domain.configFile, 'utf8');

    const unknown = await run('master', ['rollback', 'hx', 'domain_20000101_000000', ...h]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('there is no version "domain_20000101_000000" in the history of hx (kept: domain_');
    const malformed = await run('master', ['rollback', 'hx', '../domain', ...h]);
    expect(malformed.exitCode).toBe(2);
    expect(malformed.stderr).toContain('"../domain" is not a version: versions are named domain_YYYYMMDD_HHMMSS');
    // Kept versions that cannot come back: one naming an application whose files are gone, one that no longer loads.
    const historyDir = join(domain.dir, 'config', '.history');
    await writeFile(join(historyDir, 'domain_20000101_000001.json5'), before.replace(/\n}\n$/, '\n  applications: { gone: { context: "/gone", targets: ["cluster1"] } },\n}\n'));
    const appGone = await run('master', ['rollback', 'hx', 'domain_20000101_000001', ...h]);
    expect(appGone.exitCode).toBe(2);
    expect(appGone.stderr).toContain('version domain_20000101_000001 cannot be brought back: it names application gone, whose files were removed since (undeployed); deploy gone again');
    await writeFile(join(historyDir, 'domain_20000101_000002.json5'), '{ name: "hx", colour: "blue" }\n');
    const invalid = await run('master', ['rollback', 'hx', 'domain_20000101_000002', ...h]);
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain('version domain_20000101_000002 cannot be brought back, it is not a valid configuration today');
    expect(invalid.stderr).toContain('unknown key "colour"');
    await rm(join(historyDir, 'domain_20000101_000001.json5'));
    await rm(join(historyDir, 'domain_20000101_000002.json5'));
    expect(await readFile(domain.configFile, 'utf8')).toBe(before);
    expect(await readdir(historyDir)).toHaveLength(1);

    const [kept] = await readdir(join(domain.dir, 'config', '.history'));
    expect((await run('master', ['stop', 'hx', ...h])).exitCode).toBe(0);
    await master.child;
    const down = await run('master', ['rollback', 'hx', kept!.replace(/\.json5$/, ''), ...h]);
    expect(down.exitCode).toBe(3);
    expect(down.stderr).toContain(`MASTER of hx at 127.0.0.1:${domain.masterPort} is unreachable: configuration changes need the MASTER`);
    const history = await run('master', ['history', 'hx', ...h]);
    expect(history.exitCode).toBe(3);
    expect(history.stderr).toContain(`MASTER of hx at 127.0.0.1:${domain.masterPort} is unreachable`);
    expect(await readFile(domain.configFile, 'utf8')).toBe(before);
  });

  it('refuses a rollback request that is not a version on the wire (a path, extra keys) and keeps serving, changing nothing', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'hw', []);
    const master = await startMaster(domain);
    const before = await readFile(domain.configFile, 'utf8');
    const key = Buffer.from(await readKey(domain), 'hex');
    const ca = await domainCa(domain);
    const path = '/v2/config/rollback';
    for (const body of ['{"version":"../../security/domain.key"}', '{"version":"domain_20000101_000000","force":true}', '[]']) {
      const answer = await sendRaw(domain.masterPort, { method: 'POST', path, headers: signedFor(key, 'hw', 'master', 'POST', path, body), body, ca });
      expect(answer.status, body).toBe(422);
      expect(JSON.parse(answer.text), body).toMatchObject({ exitCode: 4, error: expect.stringContaining('a rollback from cli is not a valid message') });
    }
    expect(master.stderr()).toContain('[SYS-0002] a rollback from cli is not a valid message');
    expect((await masterStatus(domain)).generation).toBe(1);
    expect(await readFile(domain.configFile, 'utf8')).toBe(before);
  });
});
