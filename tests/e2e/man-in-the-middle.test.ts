/**
 * A man in the middle between a managed server and its MASTER (docs/security.md): one that only
 * listens learns nothing, one that changes a byte gets nothing used, and an impostor with a
 * certificate of its own is refused even at a server's first contact.
 */
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { masterIdentity } from '@flotilla/core';
import { onCleanup, run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, managedStatus, readKey, startManaged, startMaster, type TestDomain } from '@flotilla/test-support/domain';
import { snapshot } from '@flotilla/test-support/domain-trees';
import { testTls } from '@flotilla/test-support/management';
import { tcpProxy } from '@flotilla/test-support/tcp-proxy';

const MARKER = 'application-bytes-only-the-domain-may-read';
const APPS = '  applications: { secret: { context: "/secret", targets: ["cluster1"] } },\n';

async function writeSecretApp(domain: TestDomain): Promise<void> {
  const dir = join(domain.dir, 'apps', 'secret');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'index.js'),
    `// ${MARKER}\nrequire('node:http').createServer((req, res) => res.end('secret app\\n')).listen(process.env.PORT);\n`,
  );
}

async function answers(http: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${http}/secret/`).catch(() => undefined);
  return response?.status === 200;
}

describe('a man in the middle between a server and its MASTER', () => {
  it('that records every byte sees no application content, no configuration and no key', async () => {
    const home = await tempHome();
    const remote = await tempHome();
    const domain = await createTestDomain(home, 'mitm1', ['server1'], APPS);
    await writeSecretApp(domain);
    await startMaster(domain);
    const proxy = await tcpProxy(domain.masterPort);
    await startManaged(remote, 'mitm1', 'server1', ['--master', `127.0.0.1:${proxy.port}`, '--key-file', domain.keyFile]);
    await waitFor('MANAGED through the proxy', async () => (await managedStatus(remote, 'mitm1', 'server1')).mode === 'MANAGED');
    await waitFor('the application answering', () => answers(domain.servers.server1!.http));

    const config = await readFile(domain.configFile, 'utf8');
    const seen = Buffer.concat([proxy.seen('to-target'), proxy.seen('to-client')]);
    expect(proxy.seen('to-client').length).toBeGreaterThan(config.length); // the sync did go through it
    expect(seen.includes(MARKER)).toBe(false);
    expect(seen.includes('autoRestart')).toBe(false);
    expect(seen.includes(`name: "mitm1"`)).toBe(false);
    expect(seen.includes(await readKey(domain))).toBe(false);
    expect(seen.includes('x-flotilla-signature')).toBe(false);
  });

  it('that flips a byte of the MASTER\'s answers gets nothing written and nothing run: the old cache is served', async () => {
    const home = await tempHome();
    const remote = await tempHome();
    const domain = await createTestDomain(home, 'mitm2', ['server1'], APPS);
    await writeSecretApp(domain);
    await startMaster(domain);
    const first = await startManaged(remote, 'mitm2', 'server1', ['--master', `127.0.0.1:${domain.masterPort}`, '--key-file', domain.keyFile]);
    await waitFor('the application answering', () => answers(domain.servers.server1!.http));
    expect((await run('managed', ['stop', 'mitm2', 'server1', '--home', remote])).exitCode).toBe(0);
    await first.child;
    // A new generation waits on the MASTER: a sync that went through would write it.
    expect((await run('master', ['config', 'set', 'mitm2', 'backup.keep', '20', '--home', home])).exitCode).toBe(0);
    const cacheDir = join(remote, 'domains', 'mitm2', 'servers', 'server1', 'cache');
    const before = await snapshot(cacheDir);

    // One byte changed in everything the MASTER sends after its first flight (the handshake).
    const proxy = await tcpProxy(domain.masterPort, {
      alter: (direction, chunk, offset) => {
        if (direction !== 'to-client' || offset === 0) return chunk;
        const changed = Buffer.from(chunk);
        changed[chunk.length >> 1]! ^= 0x01;
        return changed;
      },
    });
    const server = await startManaged(remote, 'mitm2', 'server1', ['--master', `127.0.0.1:${proxy.port}`]);
    expect(proxy.connections()).toBeGreaterThan(0);
    expect(server.stderr()).toContain('[MS-0045]');
    const status = await managedStatus(remote, 'mitm2', 'server1');
    expect(status).toMatchObject({ mode: 'INDEPENDENT', generation: 1 });
    expect(await snapshot(cacheDir)).toEqual(before);
    expect(await answers(domain.servers.server1!.http)).toBe(true);
  });

  it('that presents a certificate of its own is refused at the first contact of a server that has only the key', async () => {
    const home = await tempHome();
    const fresh = await tempHome();
    const domain = await createTestDomain(home, 'mitm3', ['server1'], APPS);
    await writeSecretApp(domain);
    await startMaster(domain);
    // It even names the MASTER's identity, and relays every request to the real MASTER, answer and all.
    const impostorTls = await testTls(masterIdentity('mitm3'));
    const asked: Array<{ url: string; headers: Record<string, unknown> }> = [];
    const impostor = createHttpsServer(impostorTls.credentials, (request, response) => {
      asked.push({ url: request.url ?? '', headers: request.headers });
      const relay = httpsRequest(
        { host: '127.0.0.1', port: domain.masterPort, method: request.method, path: request.url, headers: request.headers, rejectUnauthorized: false },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      relay.on('error', () => response.destroy());
      request.pipe(relay);
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => {
      impostor.close(() => resolve());
      impostor.closeAllConnections();
    }));

    const port = (impostor.address() as AddressInfo).port;
    const result = await run('managed', ['start', 'mitm3', 'server1', '--home', fresh, '--master', `127.0.0.1:${port}`, '--key-file', domain.keyFile]);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(`could not verify the MASTER of domain mitm3 at 127.0.0.1:${port} (wrong proof)`);
    // All it was told is a nonce: no signed request, nothing of the key.
    expect(asked.map((question) => question.url)).toEqual([expect.stringMatching(/^\/v2\/trust\?nonce=[0-9a-f]{64}$/)]);
    expect(JSON.stringify(asked)).not.toContain('x-flotilla-signature');
    expect(JSON.stringify(asked)).not.toContain(await readKey(domain));
    // And nothing was kept of what it said.
    const cache = await readdir(join(fresh, 'domains', 'mitm3', 'servers', 'server1', 'cache')).catch(() => [] as string[]);
    expect(cache).not.toContain('ca.crt');

    // A remote command from a machine that has only the key is refused the same way.
    asked.length = 0;
    const operator = await tempHome();
    const status = await run('master', ['status', 'mitm3', '--home', operator, '--master', `127.0.0.1:${port}`, '--key-file', domain.keyFile, '--json']);
    expect(status.exitCode).toBe(4);
    expect(status.stderr).toContain(`could not verify the MASTER of domain mitm3 at 127.0.0.1:${port} (wrong proof)`);
    expect(status.stdout).toBe('');
    expect(asked.map((question) => question.url)).toEqual([expect.stringMatching(/^\/v2\/trust\?nonce=[0-9a-f]{64}$/)]);
  });
});
