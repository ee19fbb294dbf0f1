// The scale contract (docs/contract.md#scale): the MASTER of a domain of 512 servers, each simulated in this process with the
// real protocol over TLS (test-support's fleet). Deadlines are ten times the targets (a change on
// all in 1 s, all back within 3 s of the MASTER being ready), for a busy 2-core machine running
// other tests beside this one: the figures themselves are the bench's (bench/suites/80-scale.mjs).
import { describe, expect, it } from 'vitest';
import { killPid, onCleanup, run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, masterStatus, startMaster } from '@flotilla/test-support/domain';
import { Fleet } from '@flotilla/test-support/fleet';

const SERVERS = 512;
const CHANGE_DEADLINE_MS = 10_000;
const REATTACH_DEADLINE_MS = 30_000;

const managedRows = async (domain: Parameters<typeof masterStatus>[0]) =>
  (await masterStatus(domain)).servers.filter((row: { mode?: string }) => row.mode === 'MANAGED').length;

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

    await waitFor('all 512 MANAGED in master status --json', async () => (await managedRows(domain)) === SERVERS, 30_000);
    expect((await masterStatus(domain)).servers).toHaveLength(SERVERS + 1);
    const human = await run('master', ['status', 'big', '--home', home]);
    expect(human.exitCode).toBe(0);
    expect(human.stdout.split('\n').filter((line) => line.includes('MANAGED'))).toHaveLength(SERVERS);

    const changed = await run('master', ['config', 'set', 'big', 'backup.keep', '21', '--home', home, '--json']);
    expect(changed.exitCode).toBe(0);
    const { generation } = JSON.parse(changed.stdout);
    await waitFor(`all 512 at generation ${generation}`, () => fleet.at(generation) === SERVERS, CHANGE_DEADLINE_MS);

    killPid(master.pid);
    await waitFor('all 512 detached', () => fleet.attached === 0, 30_000);
    const restarted = Date.now();
    master = await startMaster(domain);
    await waitFor('all 512 attached again', () => fleet.allAttachedSince(restarted), REATTACH_DEADLINE_MS);
    await waitFor('all 512 MANAGED again in the MASTER\'s table', async () => (await managedRows(domain)) === SERVERS, 10_000);
    expect([...fleet.errors.keys()].filter((error) => !error.startsWith('PeerUnreachableError'))).toEqual([]);
  }, 240_000);
});
