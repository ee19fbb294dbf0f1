// The scale contract (docs/contract.md#scale): the MASTER of a domain of 512 servers, each simulated in this process with the
// real protocol over TLS (test-support's fleet). Deadlines are generous: the figures themselves are
// the bench's (bench/suites/80-scale.mjs); this checks that all 512 get there.
import { describe, expect, it } from 'vitest';
import { killPid, onCleanup, run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, masterStatus, startMaster } from '@flotilla/test-support/domain';
import { Fleet } from '@flotilla/test-support/fleet';

const SERVERS = 512;

describe('a MASTER with 512 servers', () => {
  it('registers all 512 MANAGED, sends a change to all, and has all back after a restart; the status table lists them', async () => {
    const home = await tempHome();
    const names = Array.from({ length: SERVERS }, (_, i) => `server${i + 1}`);
    const domain = await createTestDomain(home, 'big', names);
    const fleet = await Fleet.create(home, 'big');
    onCleanup(() => fleet.stop());
    let master = await startMaster(domain);
    fleet.start();
    await waitFor('all 512 attached', () => fleet.attached === SERVERS, 60_000);

    const table = await waitFor('all 512 MANAGED in master status --json', async () => {
      const status = await masterStatus(domain);
      return status.servers.filter((row: { mode?: string }) => row.mode === 'MANAGED').length === SERVERS && status;
    }, 30_000);
    expect(table.servers).toHaveLength(SERVERS + 1);
    const human = await run('master', ['status', 'big', '--home', home]);
    expect(human.exitCode).toBe(0);
    expect(human.stdout.split('\n').filter((line) => line.includes('MANAGED'))).toHaveLength(SERVERS);

    const changed = await run('master', ['config', 'set', 'big', 'backup.keep', '21', '--home', home, '--json']);
    expect(changed.exitCode).toBe(0);
    const { generation } = JSON.parse(changed.stdout);
    await waitFor(`all 512 at generation ${generation}`, () => fleet.at(generation) === SERVERS, 30_000);

    killPid(master.pid);
    await waitFor('all 512 detached', () => fleet.attached === 0, 30_000);
    const restarted = Date.now();
    master = await startMaster(domain);
    await waitFor('all 512 attached again', () => fleet.allAttachedSince(restarted), 60_000);
    expect([...fleet.errors.keys()].filter((error) => !error.startsWith('PeerUnreachableError'))).toEqual([]);
  }, 240_000);
});
