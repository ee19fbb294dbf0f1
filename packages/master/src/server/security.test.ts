import { request } from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signRequest } from '@flotilla/core';
import { run, tempHome, waitFor } from '../../../../test-support/index.js';
import { createTestDomain, managedStatus, readKey, startManaged, startMaster } from '../../../../test-support/domain.js';

interface Answer {
  status: number;
  body: string;
}

function send(port: number, method: string, path: string, headers: Record<string, string>, body = ''): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve({ status: 413, body: '' }) : reject(error)));
    req.end(body);
  });
}

describe('management requests are authenticated with the domain key', () => {
  it('refuses requests without the key, with a wrong key, stale, replayed or oversized, and logs them', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 's1', ['server1']);
    const master = await startMaster(domain);
    const key = Buffer.from(await readKey(domain), 'hex');
    const path = '/v1/status';

    expect((await send(domain.masterPort, 'GET', path, {})).status).toBe(401);
    const wrong = signRequest(Buffer.alloc(32, 7), 'GET', path, 'intruder');
    expect((await send(domain.masterPort, 'GET', path, wrong)).status).toBe(401);

    const good = signRequest(key, 'GET', path, 'cli');
    expect((await send(domain.masterPort, 'GET', path, good)).status).toBe(200);
    const replay = await send(domain.masterPort, 'GET', path, good);
    expect(replay.status).toBe(401);
    expect(replay.body).toContain('replayed');

    const stale = { ...signRequest(key, 'GET', path, 'cli'), 'x-flotilla-time': String(Date.now() - 10 * 60_000) };
    expect((await send(domain.masterPort, 'GET', path, stale)).status).toBe(401);

    // A body signed for one path does not authorise another.
    const moved = signRequest(key, 'POST', '/v1/config', 'cli', '{}');
    expect((await send(domain.masterPort, 'POST', '/v1/stop', moved, '{}')).status).toBe(401);

    const big = 'x'.repeat(2 * 1024 * 1024);
    const oversized = await send(domain.masterPort, 'POST', '/v1/config', signRequest(key, 'POST', '/v1/config', 'cli', big), big);
    expect(oversized.status).toBe(413);

    // Content is fetched by hash only: no request names a file path.
    const byPathBody = JSON.stringify({ hashes: ['../config/security/domain.key'] });
    const refused = await send(domain.masterPort, 'POST', '/v1/content', signRequest(key, 'POST', '/v1/content', 'cli', byPathBody), byPathBody);
    expect(refused.status).toBe(400);
    expect(refused.body).not.toContain(await readKey(domain));

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
    expect((await send(port, 'GET', '/v1/status', {})).status).toBe(401);
    // Management endpoints are not on the applications' port.
    const http = domain.servers.server2!.http;
    expect((await send(http, 'GET', '/v1/status', signRequest(Buffer.from(keyHex, 'hex'), 'GET', '/v1/status', 'cli'))).status).toBe(404);

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
