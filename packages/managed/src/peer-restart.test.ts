import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { killPid, waitFor } from '@flotilla/test-support';
import { tempHome } from '@flotilla/test-support';
import { createTestDomain, managedStatus, masterStatus, startManaged, startMaster } from '@flotilla/test-support/domain';

/** The processes running `managed start <domain> <server>`, whoever started them. */
async function serverProcesses(domain: string, server: string): Promise<number[]> {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'pid=,args=']);
  return stdout
    .split('\n')
    .filter((line) => line.includes(` start ${domain} ${server} `) && line.includes('managed'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

describe('restarts while the MASTER is down', () => {
  it('a live server on the node restarts a SIGKILLed peer: RUNNING again within 10 s, one process, and the MASTER sees it when it returns', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'peer', ['server1', 'server2'], '', { autoRestart: true });
    const master = await startMaster(domain);
    await startManaged(home, 'peer', 'server1');
    const server2 = await startManaged(home, 'peer', 'server2');
    await waitFor('both RUNNING at the MASTER', async () => (await masterStatus(domain)).servers.filter((row: any) => row.status === 'RUNNING').length === 3);

    killPid(master.pid);
    await master.child;
    await waitFor('server1 on its own', async () => (await managedStatus(home, 'peer', 'server1')).mode === 'INDEPENDENT');

    killPid(server2.pid);
    await server2.child;
    const killedAt = Date.now();
    const restarted = await waitFor('server2 RUNNING again', async () => {
      const status = await managedStatus(home, 'peer', 'server2').catch(() => undefined);
      return status?.status === 'RUNNING' && status.pid !== server2.pid && status;
    }, 20_000);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(await serverProcesses('peer', 'server2')).toEqual([restarted.pid]);

    // The MASTER comes back and shows the restarted server, with its new process, and says who restarted it.
    const returned = await startMaster(domain);
    await waitFor('the MASTER to see server2 RUNNING with its new PID', async () => {
      const row = (await masterStatus(domain)).servers.find((entry: any) => entry.server === 'server2' || entry.name === 'server2');
      return row?.status === 'RUNNING' && row.pid === restarted.pid;
    });
    await waitFor('the MASTER told of the restart', () => /\[MA-0056\] while the MASTER was away, server1 restarted server2 at \S+ \(attempt 1 of \d+\)/.test(returned.stderr()));
    // Said once, though server1 reports at its attach and again at each change of its state.
    expect(returned.stderr().split('[MA-0056]').length).toBe(2);
  }, 90_000);
});
