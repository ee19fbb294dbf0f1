import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { onCleanup } from '@flotilla/test-support';
import { testTls, type TestTls } from '@flotilla/test-support/management';
import { clientTlsOptions } from '../tls/options.js';
import { FlotillaError } from '../errors.js';
import { PeerNotTrustedError, PeerUnreachableError } from './peer-errors.js';
import { streamRequest, type BodySink, type StreamedRequest } from './streamed-body.js';

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => sockets.add(socket));
  onCleanup(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  }));
  return (server.address() as AddressInfo).port;
}

let tls: TestTls;
beforeAll(async () => {
  tls = await testTls();
});

/** A peer that answers every connection with `answer`, written as it is (to send what HTTP servers would not). */
function rawPeer(answer: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createTlsServer(tls.credentials, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => answer(socket));
  });
  onCleanup(() => {
    for (const socket of sockets) socket.destroy();
  });
  return listening(server);
}

function requestTo(port: number, idleTimeoutMs = 5_000): StreamedRequest {
  return {
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v2/content',
    headers: { 'x-test': 'yes' },
    body: '{"hashes":[]}',
    idleTimeoutMs,
    where: `127.0.0.1:${port}`,
    tls: clientTlsOptions(tls),
  };
}

/** Hashes what it is given; every few pieces it makes the transfer wait, then checks its piece was left alone. */
function hashingSink(): BodySink & { hex: () => string; bytes: number } {
  const hash = createHash('sha256');
  let pieces = 0;
  return {
    bytes: 0,
    hex: () => hash.digest('hex'),
    data(chunk) {
      this.bytes += chunk.length;
      if (++pieces % 3 !== 0) {
        hash.update(chunk);
        return undefined;
      }
      const copy = Buffer.from(chunk);
      return new Promise<void>((resolve, reject) =>
        setTimeout(() => {
          if (!chunk.equals(copy)) return reject(new Error('the piece changed while the sink held it'));
          hash.update(chunk);
          resolve();
        }, 2),
      );
    },
  };
}

describe('streaming an answer body into a sink', () => {
  it('delivers every byte of a large answer, in order, waiting for the sink when it asks', async () => {
    const body = randomBytes(5 * 1024 * 1024 + 11);
    let seen: { method?: string; url?: string; test?: string; length?: string } = {};
    const server = createHttpsServer(tls.credentials, (request, response) => {
      seen = { method: request.method, url: request.url, test: request.headers['x-test'] as string, length: request.headers['content-length'] };
      request.resume();
      response.writeHead(200, { 'content-length': body.length });
      for (let at = 0; at < body.length; at += 100_000) response.write(body.subarray(at, at + 100_000));
      response.end();
    });
    const port = await listening(server);
    const sink = hashingSink();
    expect(await streamRequest(requestTo(port), sink)).toEqual({ status: 200 });
    expect(sink.bytes).toBe(body.length);
    expect(sink.hex()).toBe(createHash('sha256').update(body).digest('hex'));
    expect(seen).toEqual({ method: 'POST', url: '/v2/content', test: 'yes', length: '13' });
  });

  it('never changes a piece the sink is at work on, across many awaits, on several answers at once', async () => {
    // A sink like the sync's: async, still reading its piece after awaits of every kind.
    const body = randomBytes(1_300_000);
    const expected = createHash('sha256').update(body).digest('hex');
    const server = createHttpsServer(tls.credentials, (request, response) => {
      request.resume();
      response.writeHead(200, { 'content-length': body.length });
      response.end(body);
    });
    const port = await listening(server);
    const waits = [() => null, () => new Promise((resolve) => setImmediate(resolve)), () => new Promise((resolve) => setTimeout(resolve, 1))];
    const receive = async (offset: number) => {
      const hash = createHash('sha256');
      let step = offset;
      await streamRequest(requestTo(port), {
        async data(chunk) {
          const copy = Buffer.from(chunk);
          for (let at = 0; at < chunk.length; at += 4096) await waits[step++ % waits.length]!();
          if (!copy.equals(chunk)) throw new Error('the piece changed while the sink held it');
          hash.update(chunk);
        },
      });
      return hash.digest('hex');
    };
    expect(await Promise.all([0, 1, 2, 3].map(receive))).toEqual([expected, expected, expected, expected]);
  });

  it('returns an error answer with its body, without giving it to the sink', async () => {
    const server = createHttpsServer(tls.credentials, (request, response) => {
      request.resume();
      const text = JSON.stringify({ error: 'no content with hash ff', exitCode: 2 });
      response.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      response.end(text);
    });
    const port = await listening(server);
    const sink = hashingSink();
    const answer = await streamRequest(requestTo(port), sink);
    expect(answer).toMatchObject({ status: 400 });
    expect('errorBody' in answer && JSON.parse(answer.errorBody.toString())).toEqual({ error: 'no content with hash ff', exitCode: 2 });
    expect(sink.bytes).toBe(0);
  });

  it('says which peer stopped, and how much was missing, when the answer is cut short', async () => {
    const port = await rawPeer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n' + 'x'.repeat(40)));
    const failure = streamRequest(requestTo(port), hashingSink());
    await expect(failure).rejects.toThrow(PeerUnreachableError);
    await expect(failure).rejects.toThrow(`127.0.0.1:${port} stopped sending /v2/content with 60 of its 100 bytes still to come`);
  });

  it('refuses answers that are not ours: chunked, without a length, more bytes than announced, not HTTP', async () => {
    const answers = [
      ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'transfer-encoding chunked'],
      ['HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhello', 'no content-length'],
      ['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhello', '3 bytes past its content-length'],
      ['SSH-2.0-OpenSSH_9.2\r\n\r\n', 'a status line that is not HTTP/1.x'],
      [`HTTP/1.1 200 OK\r\nx-filler: ${'a'.repeat(20_000)}`, 'a head of more than'],
    ] as const;
    for (const [answer, why] of answers) {
      const port = await rawPeer((socket) => socket.write(answer));
      const failure = streamRequest(requestTo(port), hashingSink());
      await expect(failure).rejects.toThrow(FlotillaError);
      await expect(failure).rejects.toThrow(why);
    }
  });

  it('gives up on a peer that goes silent, and reports a refused connection as unreachable', async () => {
    const port = await rawPeer((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
    await expect(streamRequest(requestTo(port, 300), hashingSink())).rejects.toThrow(`127.0.0.1:${port} sent nothing for 0.3 s`);

    const closed = createNetServer();
    const freePort = await listening(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = streamRequest(requestTo(freePort), hashingSink());
    await expect(refused).rejects.toThrow(PeerUnreachableError);
    await expect(refused).rejects.toThrow('is unreachable (ECONNREFUSED)');
  });

  it('refuses a peer that is not verified: a certificate from another CA, another identity, or no TLS at all', async () => {
    const stranger = await testTls();
    const impostor = createHttpsServer(stranger.credentials, (_request, response) => response.end('{}'));
    const impostorPort = await listening(impostor);
    await expect(streamRequest(requestTo(impostorPort), hashingSink())).rejects.toThrow(PeerNotTrustedError);

    const port = await rawPeer((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    const otherIdentity = { ...requestTo(port), tls: clientTlsOptions({ ca: tls.ca, identity: 'flotilla://test/servers/other' }) };
    await expect(streamRequest(otherIdentity, hashingSink())).rejects.toThrow('names flotilla://test/master, not flotilla://test/servers/other');

    const plain = createNetServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    const plainPort = await listening(plain);
    await expect(streamRequest(requestTo(plainPort), hashingSink())).rejects.toThrow(PeerNotTrustedError);
  });

  it('ends the transfer with the error the sink throws', async () => {
    const server = createHttpsServer(tls.credentials, (request, response) => {
      request.resume();
      response.writeHead(200, { 'content-length': 1_000_000 });
      response.end(Buffer.alloc(1_000_000));
    });
    const port = await listening(server);
    const refusing: BodySink = {
      data() {
        throw new Error('disk full');
      },
    };
    await expect(streamRequest(requestTo(port), refusing)).rejects.toThrow('disk full');
  });
});
