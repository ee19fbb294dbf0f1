import { describe, expect, it } from 'vitest';
import { killPid, run, start, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, startManaged, startMaster } from '@flotilla/test-support/domain';

describe('master status', () => {
  it('shows the table with time in status; --watch --json prints a line per change', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'st', ['server1', 'server2']);
    const master = await startMaster(domain);
    await startManaged(home, 'st', 'server1');

    const human = await run('master', ['status', 'st', '--home', home]);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/adminServer\(\*\)\s+RUNNING\(\d\d:\d\d:\d\d\)\s+node1\s+\d+/);
    expect(human.stdout).toMatch(/server2\s+SHUTDOWN\s+node1\s+-\s+cluster1/);

    const watcher = start('master', ['status', 'st', '--home', home, '--watch', '--json']);
    let out = '';
    watcher.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const tables = () => out.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    await waitFor('a first table', () => tables().length >= 1);
    expect(tables()[0]).toMatchObject({ domain: 'st', generation: 1 });
    expect((await run('master', ['config', 'set', 'st', 'backup.keep', '5', '--home', home])).exitCode).toBe(0);
    await waitFor('a table at generation 2', () => tables().some((table) => table.generation === 2));
    killPid(watcher.pid, 'SIGINT');
    expect((await watcher).exitCode).toBe(130);

    killPid(master.pid);
    await master.child;
    const down = await run('master', ['status', 'st', '--home', home]);
    expect(down.exitCode).toBe(3);
    expect(down.stderr).toContain(`MASTER of st at 127.0.0.1:${domain.masterPort} is unreachable: is it running? (master start st)`);
  });

  it('--watch into a pipe prints plain tables, a new one only on change', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'pw', ['server1']);
    await startMaster(domain);

    const watcher = start('master', ['status', 'pw', '--home', home, '--watch']);
    let out = '';
    watcher.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor('a first table', () => out.includes('Domain pw, generation 1'));
    expect((await run('master', ['config', 'set', 'pw', 'backup.keep', '5', '--home', home])).exitCode).toBe(0);
    await waitFor('a table at generation 2', () => out.includes('Domain pw, generation 2'));
    killPid(watcher.pid, 'SIGINT');
    await watcher;

    expect(out).not.toContain('\x1b');
    const tables = out.trimEnd().split('\n\n');
    expect(tables.length).toBe(2);
    expect(tables[0]).toMatch(/^Domain pw, generation 1\nSERVER /);
    expect(tables[1]).toMatch(/^Domain pw, generation 2\nSERVER /);
  });
});
