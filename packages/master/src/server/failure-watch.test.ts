import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { killPid, onCleanup, run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, masterStatus, startManaged, startMaster } from '@flotilla/test-support/domain';

const row = async (domain: Parameters<typeof masterStatus>[0], server: string) =>
  (await masterStatus(domain)).servers.find((r: any) => r.name === server);

describe('failure detection and automatic restart', () => {
  it('sees a SIGKILLed server FAILED and starts it again on its node with a new PID', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'fw1', ['server1', 'server2'], '', { autoRestart: true });
    const master = await startMaster(domain);
    const server1 = await startManaged(home, 'fw1', 'server1');
    await startManaged(home, 'fw1', 'server2');
    await waitFor('both RUNNING and MANAGED', async () => {
      const table = await masterStatus(domain);
      return table.servers.filter((r: any) => !r.master && r.status === 'RUNNING' && r.mode === 'MANAGED').length === 2;
    });

    killPid(server1.pid);
    await waitFor('server1 FAILED at the MASTER', () => master.stderr().includes('server1: failed'));
    await waitFor('server1 RUNNING again with a new PID', async () => {
      const current = await row(domain, 'server1');
      return current.status === 'RUNNING' && current.mode === 'MANAGED' && current.pid !== server1.pid && current.pid > 0;
    }, 30_000);
    expect(master.stderr()).toContain('[MA-0051] restarting server1 on node node1 (attempt 1 of 5)');
    // Its peer never moved.
    expect((await row(domain, 'server2')).status).toBe('RUNNING');
  });

  it('stops trying after the attempt limit: FAILED, with the reason', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'fw2', ['server1'], '  restart: { attempts: 2, windowSeconds: 120 },\n', { autoRestart: true });
    const master = await startMaster(domain);
    const server1 = await startManaged(home, 'fw2', 'server1');
    await waitFor('RUNNING', async () => (await row(domain, 'server1')).status === 'RUNNING');

    killPid(server1.pid);
    await server1.child;
    // Something else takes its HTTP port: every restart fails at once.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(domain.servers.server1!.http, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => squatter.close(() => resolve())));

    await waitFor('FAILED with the reason', async () => {
      const current = await row(domain, 'server1');
      return current.status === 'FAILED' && /restart limit reached: 2 attempts within 120 s/.test(current.failure ?? '');
    }, 45_000);
    expect(master.stderr()).toContain('[MA-0052]');
    const human = await run('master', ['status', 'fw2', '--home', home]);
    expect(human.stdout).toContain('server1: restart limit reached: 2 attempts within 120 s');
  });

  it('never restarts a server stopped on purpose: SHUTDOWN at once', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'fw3', ['server1'], '', { autoRestart: true });
    const master = await startMaster(domain);
    await startManaged(home, 'fw3', 'server1');
    await waitFor('RUNNING', async () => (await row(domain, 'server1')).status === 'RUNNING');
    expect((await run('managed', ['stop', 'fw3', 'server1', '--home', home])).exitCode).toBe(0);
    await waitFor('SHUTDOWN', async () => (await row(domain, 'server1')).status === 'SHUTDOWN');
    await waitFor('the heartbeat leave seen', () => master.stderr().includes('server1: left'));
    expect(master.stderr()).not.toContain('server1: failed');
    expect(master.stderr()).not.toContain('[MA-0051]');
  });
});
