import { describe, expect, it } from 'vitest';
import { run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, masterStatus, startMaster } from '@flotilla/test-support/domain';

const statusOf = async (domain: Awaited<ReturnType<typeof createTestDomain>>, server: string) =>
  (await masterStatus(domain)).servers.find((row: any) => row.server === server || row.name === server);

describe('master start-server, stop-server, restart-server', () => {
  it('start, stop and restart servers on their node through the MASTER, and a stopped one stays stopped', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'ops', ['server1', 'server2'], '', { autoRestart: true });
    await startMaster(domain);
    const master = (command: string, ...args: string[]) => run('master', [command, 'ops', ...args, '--home', home, '--json']);

    const started = await master('start-server', 'server1');
    expect(started.exitCode, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout)).toEqual({ operation: 'start', results: [{ server: 'server1', ok: true, status: 'RUNNING' }] });
    const health = await fetch(`http://127.0.0.1:${domain.servers.server1!.http}/`).catch(() => undefined);
    expect(health, 'server1 answers HTTP').toBeDefined();

    const stopped = await master('stop-server', 'server1');
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout).results).toEqual([{ server: 'server1', ok: true, status: 'SHUTDOWN' }]);

    // Both of cluster1, one at a time: server1 was stopped, server2 never started.
    const rolled = await master('restart-server', 'cluster1', '--rolling');
    expect(rolled.exitCode, rolled.stderr).toBe(0);
    expect(JSON.parse(rolled.stdout).results.map((result: any) => [result.server, result.ok, result.status])).toEqual([
      ['server1', true, 'RUNNING'],
      ['server2', true, 'RUNNING'],
    ]);
    const human = await run('master', ['restart-server', 'ops', 'server2', '--home', home]);
    expect(human.exitCode, human.stderr).toBe(0);
    expect(human.stdout).toBe('server2: restarted, RUNNING');

    const both = await master('stop-server', 'server1', 'server2');
    expect(both.exitCode, both.stderr).toBe(0);
    // Longer than failure detection and a restart take: stopped through the MASTER stays stopped.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    for (const server of ['server1', 'server2']) expect((await statusOf(domain, server)).status).toBe('SHUTDOWN');
  }, 120_000);

  it('refuses a name that is neither a server nor a cluster, and says what failed per server', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'opsx', ['server1'], '', { autoRestart: true });
    await startMaster(domain);
    const unknown = await run('master', ['start-server', 'opsx', 'server1', 'nosuch', '--home', home]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('no server or cluster named nosuch in domain opsx (servers: server1; clusters: cluster1)');
    await waitFor('server1 still SHUTDOWN', async () => (await statusOf(domain, 'server1')).status === 'SHUTDOWN');

    // A node whose exec cannot start anything: the server's own error, exit 1.
    const broken = await run('master', ['config', 'set', 'opsx', 'nodes.node1.exec', '"false"', '--home', home]);
    expect(broken.exitCode, broken.stderr).toBe(0);
    const failed = await run('master', ['start-server', 'opsx', 'server1', '--home', home, '--json']);
    expect(failed.exitCode).toBe(1);
    const [result] = JSON.parse(failed.stdout).results;
    expect(result).toMatchObject({ server: 'server1', ok: false });
    expect(result.error).toContain('start on node node1 failed');
    expect(failed.stderr).toContain('start-server failed for server1');
  }, 60_000);
});
