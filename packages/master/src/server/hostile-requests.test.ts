/**
 * What a stranger on the network can try against management ports, each through the real
 * binaries (issue 13): none of it crashes or steers a server, and each refusal is the right one.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { CONNECTION_LIMITS } from '@flotilla/core';
import { onCleanup, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, managedStatus, masterStatus, readKey, startManaged, startMaster } from '@flotilla/test-support/domain';
import { domainCa, sendRaw, signedFor } from '@flotilla/test-support/management';

/** Unsigned, with `length` bytes announced and not one of them sent: the status line of the answer. */
function announceBody(port: number, ca: string, path: string, length: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, checkServerIdentity: () => undefined }, () => {
      socket.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(text.split('\r\n')[0]!);
      }
    });
    socket.on('error', reject);
  });
}

const APPS = '  applications: { hello: { context: "/hello", targets: ["cluster1"] } },\n';

async function helloAnswers(http: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${http}/hello/`).catch(() => undefined);
  return response?.status === 200 && (await response.text()) === 'hello\n';
}

describe('hostile requests to management ports', () => {
  it('never crash the MASTER or a server: malformed escapes, plain HTTP, a body before its signature, too many strangers', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'h1', ['server1'], APPS);
    const app = join(domain.dir, 'apps', 'hello');
    await mkdir(app, { recursive: true });
    await writeFile(join(app, 'index.js'), "require('node:http').createServer((req, res) => res.end('hello\\n')).listen(process.env.PORT);\n");
    const master = await startMaster(domain);
    const server = await startManaged(home, 'h1', 'server1');
    const { http } = domain.servers.server1!;
    await waitFor('the application answering', () => helloAnswers(http));
    const ca = await domainCa(domain);
    const port = domain.masterPort;

    // Route parameters decoded outside the handler's try once killed the MASTER (URIError).
    for (const target of [port, domain.servers.server1!.port]) {
      for (const [method, path] of [['POST', '/v2/servers/%E0%A4%A/report'], ['GET', '/console/%'], ['GET', '/%'], ['POST', '/v2/key/%']] as const) {
        const answer = await sendRaw(target, { method, path, ca });
        expect([400, 401, 404], `${method} ${path} at port ${target}`).toContain(answer.status);
      }
    }

    // Plain HTTP on a management port gets no service.
    const plain = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/v2/status' }, (res) => resolve(`HTTP ${res.statusCode}`));
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      req.end();
    });
    expect(plain).not.toMatch(/^HTTP 2/);

    // Unsigned, with a body announced and not a byte of it sent: refused on its headers alone, also
    // the public key refresh while no server waits for a key.
    expect(await announceBody(port, ca, '/v2/config', 1024 * 1024)).toBe('HTTP/1.1 401 Unauthorized');
    expect(await announceBody(domain.servers.server1!.port, ca, '/v2/key', 1024 * 1024)).toBe('HTTP/1.1 401 Unauthorized');
    expect(await announceBody(port, ca, '/v2/key-refresh', 16 * 1024)).toBe('HTTP/1.1 401 Unauthorized');

    // Strangers that connect and say nothing hold at most their share of the port.
    const strangers: Socket[] = [];
    onCleanup(() => strangers.forEach((socket) => socket.destroy()));
    let refused = 0;
    await Promise.all(
      Array.from({ length: CONNECTION_LIMITS.maxPendingPerPeer + 20 }, () =>
        new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => resolve());
          socket.on('error', () => resolve());
          socket.on('close', () => {
            refused++;
            resolve();
          });
          strangers.push(socket);
        }),
      ),
    );
    await waitFor('the strangers past the limit refused', () => refused >= 20);
    strangers.forEach((socket) => socket.destroy());
    await waitFor('room again', async () => (await masterStatus(domain)).domain === 'h1');
    for (const process of [master, server]) {
      expect(process.stderr()).not.toContain('URIError');
      expect(process.stderr()).not.toContain('SYS-0001');
    }
    expect((await masterStatus(domain)).servers.map((row: { status: string }) => row.status)).toEqual(['RUNNING', 'RUNNING']);
    expect(await helloAnswers(http)).toBe(true);
  });

  it('refuse a request signed for one server at every other server and at the MASTER', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'h2', ['server1', 'server2']);
    await startMaster(domain);
    await startManaged(home, 'h2', 'server1');
    await startManaged(home, 'h2', 'server2');
    const key = Buffer.from(await readKey(domain), 'hex');
    const ca = await domainCa(domain);

    // Signed for server1: a stop that server2 and the MASTER must not take, sent byte for byte.
    const stop = signedFor(key, 'h2', 'server1', 'POST', '/v2/stop', '{}');
    for (const port of [domain.servers.server2!.port, domain.masterPort]) {
      const answer = await sendRaw(port, { method: 'POST', path: '/v2/stop', headers: stop, body: '{}', ca });
      expect(answer.status).toBe(401);
      expect(answer.text).toContain('bad-signature');
    }
    const status = signedFor(key, 'h2', 'server1', 'GET', '/v2/status');
    expect((await sendRaw(domain.servers.server1!.port, { path: '/v2/status', headers: status, ca })).status).toBe(200);

    expect((await managedStatus(home, 'h2', 'server2')).status).toBe('RUNNING');
    expect((await masterStatus(domain)).servers.map((row: { name: string; status: string }) => row.status)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
  });
});
