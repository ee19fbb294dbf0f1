import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer as createHttpServer, request, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { onCleanup } from '@flotilla/test-support';
import { createHttpFront } from '../http-front.js';
import { AppProcess } from './app-process.js';

/** Servers listening on 127.0.0.1 until the test ends, their connections with them. */
async function listening<T extends Server | HttpServer>(server: T): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  }));
  return (server.address() as AddressInfo).port;
}

/** The proxy in front of whatever listens on `appPort`, under the context /app; its port and what it observed. */
async function front(appPort: number): Promise<{ port: number; observed: Array<[string, number]>; app: AppProcess }> {
  const logger = { info() {}, warn() {}, error() {} } as unknown as ConstructorParameters<typeof AppProcess>[1];
  const app = new AppProcess({ name: 'app', context: '/app', version: 'v1', dir: '/nowhere', env: {}, logs: {} as never }, logger, () => {});
  app.port = appPort;
  app.state = 'RUNNING';
  const observed: Array<[string, number]> = [];
  const server = createHttpFront({
    health: () => ({ status: 'RUNNING' }),
    route: (path) => (path.startsWith('/app') ? { name: 'app', prefix: '/app', app } : undefined),
    observe: (name, status) => observed.push([name, status]),
  });
  const port = await listening(server);
  onCleanup(() => app.upstream.destroy());
  return { port, observed, app };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request through node:http's client; `body` sent with Content-Length, or chunked when an array. */
function send(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer | Buffer[]; agent?: Agent }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/app/', headers: options.headers, agent: options.agent ?? false }, (reply) => {
      const chunks: Buffer[] = [];
      reply.on('data', (chunk: Buffer) => chunks.push(chunk));
      reply.on('end', () => resolve({ status: reply.statusCode!, headers: reply.headers, body: Buffer.concat(chunks) }));
      reply.on('error', reject);
    });
    outgoing.on('error', reject);
    const body = options.body;
    if (Array.isArray(body)) {
      for (const chunk of body) outgoing.write(chunk);
      outgoing.end();
    } else outgoing.end(body);
  });
}

/** An application made of raw TCP: `answer` gets each connection and the bytes it received so far. */
async function rawApp(answer: (socket: Socket, received: string) => void): Promise<number> {
  return listening(createNetServer((socket) => {
    let received = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) {
        const request = received;
        received = '';
        answer(socket, request);
      }
    });
  }));
}

describe('the proxy upstream (raw connections to the application, answers parsed by llhttp)', () => {
  it('streams request bodies of known and chunked length, drops hop-by-hop headers both ways, and reuses one connection', async () => {
    const ports = new Set<number>();
    const seen: IncomingHttpHeaders[] = [];
    const appPort = await listening(createHttpServer((incoming, outgoing) => {
      ports.add(incoming.socket.remotePort!);
      seen.push(incoming.headers);
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        outgoing.setHeader('x-seen-path', incoming.url!);
        outgoing.setHeader('keep-alive', 'timeout=30');
        outgoing.setHeader('x-private', 'yes');
        outgoing.setHeader('connection', 'keep-alive, x-private');
        outgoing.end(Buffer.concat(chunks));
      });
    }));
    const { port, observed } = await front(appPort);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    onCleanup(() => agent.destroy());

    const large = Buffer.alloc(8 << 20, 7);
    const fixed = await send(port, { method: 'POST', path: '/app/up?x=1', body: large, agent, headers: { 'x-forwarded-for': '10.0.0.1', te: 'trailers', 'content-length': String(large.length) } });
    expect(fixed.status).toBe(200);
    expect(fixed.body.equals(large)).toBe(true);
    expect(fixed.headers['x-seen-path']).toBe('/up?x=1');
    expect(fixed.headers['keep-alive']).not.toBe('timeout=30'); // the front's own, not the application's
    const parts = [Buffer.from('abc'), Buffer.alloc(200_000, 1), Buffer.from('xyz')];
    const chunked = await send(port, { method: 'PUT', body: parts, agent, headers: { expect: '100-continue' } });
    expect(chunked.body.equals(Buffer.concat(parts))).toBe(true);
    expect((await send(port, { agent })).body.length).toBe(0);

    expect(seen[0]).toMatchObject({ 'x-forwarded-for': '10.0.0.1, 127.0.0.1', 'x-forwarded-prefix': '/app', 'x-forwarded-proto': 'http', 'content-length': String(large.length) });
    expect(seen[0]!.te).toBeUndefined();
    expect(seen[1]!['transfer-encoding']).toBe('chunked');
    expect(seen[1]!.expect).toBeUndefined();
    expect(ports.size).toBe(1);
    expect(observed).toEqual([['app', 200], ['app', 200], ['app', 200]]);
  });

  it('relays large answers intact to slow and fast clients at once (reads share one buffer, copies reuse blocks)', async () => {
    const content = randomBytes(24 << 20);
    const digest = createHash('sha256').update(content).digest('hex');
    const appPort = await listening(createHttpServer((incoming, outgoing) => {
      // One answer of known length, one chunked; both written in uneven pieces.
      if (incoming.url === '/fixed') outgoing.setHeader('content-length', content.length);
      let at = 0;
      const more = () => {
        while (at < content.length) {
          const piece = content.subarray(at, at + 100_000 + (at % 300_000));
          at += piece.length;
          if (!outgoing.write(piece)) return void outgoing.once('drain', more);
        }
        outgoing.end();
      };
      more();
    }));
    const { port } = await front(appPort);
    const fetchHash = (path: string, slow: boolean) => new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, agent: false }, (reply) => {
        const hash = createHash('sha256');
        let chunks = 0;
        reply.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          if (slow && ++chunks % 8 === 0) {
            reply.pause();
            setTimeout(() => reply.resume(), 5);
          }
        });
        reply.on('end', () => resolve(hash.digest('hex')));
        reply.on('error', reject);
      }).on('error', reject).end();
    });
    expect(await Promise.all([fetchHash('/app/fixed', true), fetchHash('/app/fixed', false), fetchHash('/app/chunked', true), fetchHash('/app/chunked', false)])).toEqual([digest, digest, digest, digest]);
  });

  it('answers HEAD without a body, skips 1xx answers, and relays a chunked answer', async () => {
    const appPort = await rawApp((socket, received) => {
      if (received.startsWith('HEAD')) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n');
      else if (received.includes('/early')) socket.write('HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      else socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
    });
    const { port } = await front(appPort);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    onCleanup(() => agent.destroy());
    const head = await send(port, { method: 'HEAD', agent });
    expect(head.headers['content-length']).toBe('1000');
    expect(head.body.length).toBe(0);
    expect((await send(port, { path: '/app/early', agent })).body.toString()).toBe('ok');
    const chunked = await send(port, { agent });
    expect(chunked.body.toString()).toBe('abcde');
    expect(chunked.headers['content-length']).toBeUndefined();
  });

  it('answers 503 with Retry-After to garbage, a head too large, two lengths, an unasked 101, a close before the answer; cuts an answer short when the application does', async () => {
    const answers: Record<string, string | ((socket: Socket) => void)> = {
      '/garbage': 'SMTP ready\r\n\r\n',
      '/bad-header': 'HTTP/1.1 200 OK\r\nx-bad: a\x01b\r\ncontent-length: 0\r\n\r\n',
      '/large': `HTTP/1.1 200 OK\r\nx-large: ${'a'.repeat(40_000)}\r\n\r\n`,
      // Both lengths: which one frames the answer is the classic smuggling ambiguity, refused.
      '/both': 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 99\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      '/switch': 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n',
      '/close': (socket) => socket.destroy(),
      '/short': (socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this'),
      '/ok': 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
    };
    const appPort = await rawApp((socket, received) => {
      const answer = answers[received.split(' ')[1]!] ?? answers['/ok']!;
      if (typeof answer === 'string') socket.write(answer);
      else answer(socket);
    });
    const { port } = await front(appPort);
    for (const path of ['/garbage', '/bad-header', '/large', '/both', '/switch', '/close']) {
      const reply = await send(port, { path: `/app${path}` });
      expect(reply.status, path).toBe(503);
      expect(reply.headers['retry-after'], path).toBe('1');
      // The body says the application failed this request, not that it is starting.
      expect(JSON.parse(reply.body.toString()).error, path).toMatch(/^application app did not answer \(.+\); retry in 1 s$/);
    }
    await expect(send(port, { path: '/app/short' })).rejects.toThrow();
    expect((await send(port, { path: '/app/ok' })).body.toString()).toBe('ok');
  });

  it('never gives one request the bytes of another: an answer with more after it ends its connection', async () => {
    let connections = 0;
    const appPort = await listening(createNetServer((socket) => {
      connections += 1;
      socket.on('error', () => undefined);
      socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirstHTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecond'));
    }));
    const { port } = await front(appPort);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    onCleanup(() => agent.destroy());
    for (let i = 0; i < 3; i += 1) expect((await send(port, { agent })).body.toString()).toBe('first');
    expect(connections).toBe(3);
  });

  it('sends a request without a body again when a reused connection closes unanswered; a POST gets 503', async () => {
    let served = 0;
    const appPort = await rawApp((socket) => {
      // Each connection answers once and keeps alive, then drops the next request as if it had timed out.
      if ((socket as Socket & { answered?: boolean }).answered) return void socket.destroy();
      (socket as Socket & { answered?: boolean }).answered = true;
      served += 1;
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${String(served).length}\r\n\r\n${served}`);
    });
    const { port } = await front(appPort);
    expect((await send(port, {})).body.toString()).toBe('1');
    expect((await send(port, {})).body.toString()).toBe('2');
    expect((await send(port, { method: 'POST', body: Buffer.from('x') })).status).toBe(503);
  });

  it('ends the application\'s request when the client goes away, and keeps the in-flight count', async () => {
    let closed = false;
    const appPort = await listening(createHttpServer((_incoming, outgoing) => {
      outgoing.writeHead(200, { 'content-type': 'text/event-stream' });
      outgoing.write('data: 1\n\n');
      outgoing.on('close', () => (closed = true));
    }));
    const { port, app } = await front(appPort);
    const outgoing = request({ host: '127.0.0.1', port, path: '/app/stream', agent: false });
    outgoing.end();
    const [reply] = (await once(outgoing, 'response')) as [import('node:http').IncomingMessage];
    await once(reply, 'data');
    expect(app.inFlight).toBe(1);
    outgoing.destroy();
    const deadline = Date.now() + 5_000;
    while ((!closed || app.inFlight !== 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(true);
    expect(app.inFlight).toBe(0);
  });
});
