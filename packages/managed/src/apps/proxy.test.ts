import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'undici';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempHome, waitFor } from '@flotilla/test-support';
import { installFixtureApp, rawRequest } from '@flotilla/test-support/apps';
import { createTestDomain, managedStatus, startManaged, startMaster } from '@flotilla/test-support/domain';

/** Opens a WebSocket and collects what arrives, in order. */
async function openSocket(url: string): Promise<{ socket: WebSocket; received: Array<string | Buffer> }> {
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  const received: Array<string | Buffer> = [];
  socket.addEventListener('message', (event) => received.push(typeof event.data === 'string' ? event.data : Buffer.from(event.data as ArrayBuffer)));
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve);
    socket.addEventListener('error', () => reject(new Error(`WebSocket ${url} did not open`)));
  });
  return { socket, received };
}

describe('the HTTP proxy in front of applications', () => {
  it('serves real npm applications on two servers: WebSocket echo both ways, server-sent events as they are written', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'p1', ['server1', 'server2'],
      '  applications: { express: { context: "/express", targets: ["cluster1"] }, ws: { context: "/ws", targets: ["cluster1"] } },\n');
    await installFixtureApp('express-hello', join(domain.dir, 'apps', 'express'));
    await installFixtureApp('ws-echo', join(domain.dir, 'apps', 'ws'));
    await startMaster(domain);
    for (const server of ['server1', 'server2']) await startManaged(home, 'p1', server);

    for (const server of ['server1', 'server2']) {
      const port = domain.servers[server]!.http;
      const answer = await fetch(`http://127.0.0.1:${port}/express/hello?x=1`);
      expect(await answer.json()).toEqual({ app: 'express-hello', server, path: '/hello?x=1' });

      const { socket, received } = await openSocket(`ws://127.0.0.1:${port}/ws/chat?room=1`);
      await waitFor('the greeting', () => received.length === 1);
      expect(JSON.parse(received[0] as string)).toEqual({ hello: '/chat?room=1' });
      // Messages larger than any socket buffer, sent faster than they come back: all return, in order.
      const big = Buffer.alloc(1 << 20, server);
      for (let i = 0; i < 16; i += 1) socket.send(Buffer.concat([Buffer.from([i]), big]));
      socket.send('done');
      await waitFor('every echo', () => received.length === 18, 30_000);
      for (let i = 0; i < 16; i += 1) {
        const echo = received[1 + i] as Buffer;
        expect(echo.length).toBe(big.length + 1);
        expect(echo[0]).toBe(i);
      }
      expect(received[17]).toBe('done');
      socket.close();
    }

    // Each event is readable when the application writes it, not when the stream ends.
    const events = await fetch(`http://127.0.0.1:${domain.servers.server1!.http}/express/events`);
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const arrivals: number[] = [];
    const decoder = new TextDecoder();
    for await (const chunk of events.body!) {
      for (const line of decoder.decode(chunk).split('\n')) if (line.startsWith('data: ')) arrivals.push(Date.now());
    }
    expect(arrivals).toHaveLength(3);
    expect(arrivals[2]! - arrivals[0]!).toBeGreaterThan(400); // written 300 ms apart
  });

  it('chooses the context after normalising the path; refuses paths that climb out or hide dot segments; only an unknown context is 404', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'p2', ['server1'],
      '  applications: { one: { context: "/one", targets: ["server1"] }, two: { context: "/two", targets: ["server1"] } },\n');
    for (const app of ['one', 'two']) await cp(join(repoRoot, 'examples', 'hello'), join(domain.dir, 'apps', app), { recursive: true });
    await startMaster(domain);
    await startManaged(home, 'p2', 'server1');
    const port = domain.servers.server1!.http;

    const served = async (target: string) => {
      const answer = await rawRequest(port, target);
      expect(answer.status, target).toBe(200);
      return JSON.parse(answer.body).path as string;
    };
    expect(await served('/one/../two/x')).toBe('/x');
    expect(await served('/two/./a/b/../c?q=/../z')).toBe('/a/c?q=/../z');
    expect(await served('/%74wo/%7e%2Fx')).toBe('/~%2Fx');
    expect(await served('/one/a/..')).toBe('/');
    expect(await served('http://example.test/one/y')).toBe('/y');

    for (const target of ['/..', '/one/../../two/', '/one/%2e%2e/two/', '/one/%2E./x', '/one/..%2ftwo', '/one/..%5Ctwo', '/one/%zz', '/one/%ff', '*']) {
      const answer = await rawRequest(port, target);
      expect(answer.status, target).toBe(400);
      expect(JSON.parse(answer.body).error, target).toMatch(/^bad request path: /);
    }
    const unknown = await rawRequest(port, '/three/x');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual({ error: 'no application serves /three/x' });
    // A WebSocket handshake to an unknown context is answered the same way, then closed.
    const upgrade = await rawRequest(port, '/three/', { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' });
    expect(upgrade.status).toBe(404);
    expect((await rawRequest(port, '/-/health')).status).toBe(200);
  });

  it('answers 503 with Retry-After while a crashed application restarts, never 404', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'p3', ['server1'], '  applications: { crashy: { context: "/crashy", targets: ["server1"] } },\n');
    const dir = join(domain.dir, 'apps', 'crashy');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'index.js'), `require('node:http').createServer((req, res) => {
  if (req.url === '/boom') process.exit(3);
  res.end(JSON.stringify({ pid: process.pid }));
}).listen(Number(process.env.PORT), '127.0.0.1');\n`);
    await startMaster(domain);
    await startManaged(home, 'p3', 'server1');
    const url = `http://127.0.0.1:${domain.servers.server1!.http}/crashy/`;
    const first = (await (await fetch(url)).json()).pid;

    const seen: string[] = [];
    let stop = false;
    const clients = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const answer = await fetch(url);
        const body = await answer.text();
        if (answer.status === 200) seen.push(JSON.parse(body).pid === first ? 'old' : 'new');
        else seen.push(`${answer.status} retry-after=${answer.headers.get('retry-after')}`);
      }
    });
    await waitFor('answers from the first process', () => seen.length > 20);
    await fetch(`${url}boom`).catch(() => undefined);
    await waitFor('answers from the restarted process', () => seen.filter((s) => s === 'new').length > 20);
    stop = true;
    await Promise.all(clients);

    expect(new Set(seen.filter((s) => s !== 'old' && s !== 'new'))).toEqual(new Set(['503 retry-after=1']));
    expect((await managedStatus(home, 'p3', 'server1')).apps[0]).toMatchObject({ status: 'RUNNING', restarts: 1 });
  });
});
