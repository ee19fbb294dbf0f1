/**
 * `master rotate-key` (docs/operations.md): a new domain key for every server, running or not, and the
 * old one refused everywhere afterwards.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricsToken } from '@flotilla/core';
import { run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, masterStatus, readKey, startManaged, startMaster } from '@flotilla/test-support/domain';
import { domainCa, sendRaw, signedFor } from '@flotilla/test-support/management';

describe('master rotate-key', () => {
  it('hands a new key to the running servers, and to one that was stopped at its next start; the old key opens nothing', async () => {
    const home = await tempHome();
    const remote2 = await tempHome();
    const remote3 = await tempHome();
    const domain = await createTestDomain(home, 'rk', ['server1', 'server2', 'server3']);
    await startMaster(domain);
    const remoteArgs = ['--master', `127.0.0.1:${domain.masterPort}`, '--key-file', domain.keyFile];
    await startManaged(home, 'rk', 'server1');
    await startManaged(remote2, 'rk', 'server2', remoteArgs);
    const third = await startManaged(remote3, 'rk', 'server3', remoteArgs);
    const allManaged = async () => (await masterStatus(domain)).servers.filter((row: { mode?: string }) => row.mode === 'MANAGED').length === 3;
    await waitFor('all three MANAGED', allManaged);
    const oldKey = await readKey(domain);

    expect((await run('managed', ['stop', 'rk', 'server3', '--home', remote3])).exitCode).toBe(0);
    await third.child;
    const rotated = await run('master', ['rotate-key', 'rk', '--home', home, '--json']);
    expect(rotated.exitCode, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout)).toEqual({ domain: 'rk', delivered: ['server1', 'server2'], pending: ['server3'] });
    const newKey = await readKey(domain);
    expect(newKey).not.toBe(oldKey);
    expect(rotated.stdout + rotated.stderr).not.toContain(newKey);

    // The stopped server still holds the old key: it proves itself with its certificate and takes the new one.
    const back = await startManaged(remote3, 'rk', 'server3');
    await waitFor('all three MANAGED with the new key', allManaged);
    expect(back.stderr()).toContain('[MS-0046]');
    for (const cache of [join(remote2, 'domains', 'rk', 'servers', 'server2', 'cache'), join(remote3, 'domains', 'rk', 'servers', 'server3', 'cache')]) {
      expect((await readFile(join(cache, 'domain.key'), 'utf8')).trim()).toBe(newKey);
    }
    // Nobody was taken for dead while the keys changed.
    expect((await masterStatus(domain)).servers.map((row: { status: string }) => row.status)).toEqual(['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']);

    const ca = await domainCa(domain);
    const ports = { master: domain.masterPort, server1: domain.servers.server1!.port, server2: domain.servers.server2!.port, server3: domain.servers.server3!.port };
    for (const [receiver, port] of Object.entries(ports)) {
      const withOld = await sendRaw(port, { path: '/v2/status', headers: signedFor(Buffer.from(oldKey, 'hex'), 'rk', receiver, 'GET', '/v2/status'), ca });
      expect(withOld.status, `${receiver} with the old key`).toBe(401);
      const withNew = await sendRaw(port, { path: '/v2/status', headers: signedFor(Buffer.from(newKey, 'hex'), 'rk', receiver, 'GET', '/v2/status'), ca });
      expect(withNew.status, `${receiver} with the new key`).toBe(200);
    }
    const oldToken = metricsToken(Buffer.from(oldKey, 'hex'));
    expect((await sendRaw(domain.masterPort, { path: '/metrics', headers: { authorization: `Bearer ${oldToken}` }, ca })).status).toBe(401);
    // Its own command, which signs with the copy in its cache, speaks the new key too.
    expect((await run('managed', ['status', 'rk', 'server3', '--home', remote3])).exitCode).toBe(0);
  });
});
