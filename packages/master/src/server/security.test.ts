import { request as httpRequest } from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, managedStatus, readKey, startManaged, startMaster } from '@flotilla/test-support/domain';
import { domainCa, sendRaw, signedFor } from '@flotilla/test-support/management';

describe('management requests are authenticated with the domain key', () => {
  it('refuses requests without the key, with a wrong key, stale, replayed or oversized, and logs them', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 's1', ['server1']);
    const master = await startMaster(domain);
    const key = Buffer.from(await readKey(domain), 'hex');
    const ca = await domainCa(domain);
    const send = (method: string, path: string, headers: Record<string, string>, body = '') => sendRaw(domain.masterPort, { method, path, headers, body, ca });
    const sign = (method: string, path: string, body = '', signWith: Uint8Array = key) => signedFor(signWith, 's1', 'master', method, path, body);
    const path = '/v2/status';

    expect((await send('GET', path, {})).status).toBe(401);
    expect((await send('GET', path, sign('GET', path, '', Buffer.alloc(32, 7)))).status).toBe(401);

    const good = sign('GET', path);
    expect((await send('GET', path, good)).status).toBe(200);
    const replay = await send('GET', path, good);
    expect(replay.status).toBe(401);
    expect(replay.text).toContain('replayed');

    const stale = { ...sign('GET', path), 'x-flotilla-time': String(Date.now() - 10 * 60_000) };
    expect((await send('GET', path, stale)).status).toBe(401);

    // A body signed for one path does not authorise another, nor another body the same path.
    expect((await send('POST', '/v2/stop', sign('POST', '/v2/config', '{}'), '{}')).status).toBe(401);
    const swapped = await send('POST', '/v2/config', sign('POST', '/v2/config', '{}'), '{"op":"undeploy","name":"x"}');
    expect(swapped.status).toBe(401);
    expect(swapped.text).toContain('bad-body');

    const big = 'x'.repeat(2 * 1024 * 1024);
    const oversized = await send('POST', '/v2/config', sign('POST', '/v2/config', big), big);
    expect([0, 413]).toContain(oversized.status);

    // Content is fetched by hash only: no request names a file path.
    const byPathBody = JSON.stringify({ hashes: ['../config/security/domain.key'] });
    const refused = await send('POST', '/v2/content', sign('POST', '/v2/content', byPathBody), byPathBody);
    expect(refused.status).toBe(422);
    expect(refused.text).not.toContain(await readKey(domain));

    await waitFor('the refusals in the log', () => (master.stderr().match(/\[MA-0040\]/g) ?? []).length >= 4);
  });

  it('never shows the key: not in outputs, logs, status or caches other than the key copy', async () => {
    const home = await tempHome();
    const remoteHome = await tempHome();
    const domain = await createTestDomain(home, 's2', ['server1', 'server2']);
    const keyHex = await readKey(domain);
    const outputs: string[] = [];
    const master = await startMaster(domain);
    const server1 = await startManaged(home, 's2', 'server1');
    const server2 = await startManaged(remoteHome, 's2', 'server2', ['--master', `127.0.0.1:${domain.masterPort}`, '--key-file', domain.keyFile]);
    await waitFor('MANAGED', async () => (await managedStatus(remoteHome, 's2', 'server2')).mode === 'MANAGED');

    // A management request to a server without the key is refused too.
    const port = domain.servers.server2!.port;
    const ca = await domainCa(domain);
    expect((await sendRaw(port, { path: '/v2/status', ca })).status).toBe(401);
    // Management endpoints are not on the applications' port.
    const http = domain.servers.server2!.http;
    const signed = signedFor(Buffer.from(keyHex, 'hex'), 's2', 'server2', 'GET', '/v2/status');
    const onAppPort = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: http, path: '/v2/status', headers: signed }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(onAppPort).toBe(404);

    for (const args of [
      ['master', 'status', 's2', '--home', home, '--json'],
      ['master', 'status', 's2', '--home', home],
      ['master', 'config', 's2', '--home', home, '--json'],
      ['managed', 'status', 's2', 'server2', '--home', remoteHome, '--json'],
    ] as const) {
      const result = await run(args[0], args.slice(1) as string[]);
      expect(result.exitCode).toBe(0);
      outputs.push(result.stdout, result.stderr);
    }
    outputs.push(master.stderr(), server1.stderr(), server2.stderr());
    for (const output of outputs) expect(output).not.toContain(keyHex);
    const cacheDir = join(remoteHome, 'domains', 's2', 'servers', 'server2', 'cache');
    const state = await readFile(join(remoteHome, 'domains', 's2', 'servers', 'server2', 'state.json'), 'utf8');
    expect(state).not.toContain(keyHex);
    for (const name of await readdir(cacheDir)) {
      if (name.endsWith('.json')) expect(await readFile(join(cacheDir, name), 'utf8')).not.toContain(keyHex);
    }
  });
});
