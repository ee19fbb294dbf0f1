import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { onCleanup } from '@flotilla/test-support';
import { testTls, type TestTls } from '@flotilla/test-support/management';
import { ExitCode, FlotillaError } from '../errors.js';
import { ANSWER_SIGNATURE_HEADER, AUTH_HEADERS, answerSignature, bodyHash } from './auth.js';
import { KEPT_CONNECTION_MAX_BYTES, PeerClient } from './http-client.js';
import { PeerUnreachableError } from './peer-errors.js';
import type { BodySink } from './streamed-body.js';

let tls: TestTls;
beforeAll(async () => {
  tls = await testTls();
});

/** An HTTPS peer that answers with `answer` and counts the connections it was opened on. */
async function peer(answer: Parameters<typeof createServer>[1], key: Uint8Array = randomBytes(32)): Promise<{ client: PeerClient; connections: () => number }> {
  const server: Server = createServer(tls.credentials, answer);
  const sockets = new Set<Socket>();
  server.on('secureConnection', (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new PeerClient({ address: '127.0.0.1', port: (server.address() as AddressInfo).port }, { key, sender: 'server1', trust: tls });
  onCleanup(() => new Promise<void>((resolve) => {
    client.close();
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  }));
  return { client, connections: () => sockets.size };
}

function collecting(): BodySink & { received: () => Buffer } {
  const chunks: Buffer[] = [];
  return { data: (chunk) => void chunks.push(Buffer.from(chunk)), received: () => Buffer.concat(chunks) };
}

describe('receiving a small answer (a configuration after a change)', () => {
  it('travels on one kept-alive connection, answer after answer', async () => {
    const body = randomBytes(3_000);
    const { client, connections } = await peer((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-length': body.length });
      response.end(body);
    });
    for (let round = 0; round < 3; round++) {
      const sink = collecting();
      await client.receive('/v2/content', { hashes: [] }, sink, 5_000, body.length);
      expect(sink.received().equals(body)).toBe(true);
    }
    expect(connections()).toBe(1);
  });

  it("rejects with the peer's refusal, and with PeerUnreachableError when the answer is cut short", async () => {
    const { client } = await peer((request, response) => {
      request.resume();
      if (request.headers['content-length'] === '2') {
        response.writeHead(422, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'no content with hash x in generation 3', exitCode: 4 }));
        return;
      }
      response.writeHead(200, { 'content-length': 1_000 });
      response.write(Buffer.alloc(400));
      setImmediate(() => response.socket?.destroy());
    });
    const refused = client.receive('/v2/content', {}, collecting(), 5_000, 10);
    await expect(refused).rejects.toThrow(FlotillaError);
    await expect(refused).rejects.toThrow('no content with hash x in generation 3');
    const cut = client.receive('/v2/content', { hashes: [] }, collecting(), 5_000, 1_000);
    await expect(cut).rejects.toThrow(PeerUnreachableError);
    await expect(cut).rejects.toThrow('stopped sending /v2/content mid-answer');
  });

  it('leaves larger answers to a connection of their own', async () => {
    const body = randomBytes(KEPT_CONNECTION_MAX_BYTES + 1);
    const { client, connections } = await peer((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-length': body.length });
      response.end(body);
    });
    for (let round = 0; round < 2; round++) {
      const sink = collecting();
      await client.receive('/v2/content', { hashes: [] }, sink, 5_000, body.length);
      expect(sink.received().equals(body)).toBe(true);
    }
    expect(connections()).toBe(2);
  });
});

describe('answers to signed requests (docs/protocol.md, "Answers are signed too")', () => {
  it('are taken only when signed with the key, for that very request; refusals need no signature', async () => {
    const key = randomBytes(32);
    const body = JSON.stringify({ generation: 3 });
    let mode: 'good' | 'replayed' | 'another key' | 'unsigned' | 'refusal' = 'good';
    let lastGood = '';
    const { client } = await peer((request, response) => {
      request.resume();
      if (mode === 'refusal') {
        response.writeHead(409, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'busy', exitCode: 3 }));
        return;
      }
      const nonce = String(request.headers[AUTH_HEADERS.nonce]);
      const good = answerSignature(key, nonce, 200, bodyHash(body));
      const signature = { good, replayed: lastGood, 'another key': answerSignature(randomBytes(32), nonce, 200, bodyHash(body)), unsigned: undefined }[mode];
      if (mode === 'good') lastGood = good;
      response.writeHead(200, { 'content-type': 'application/json', ...(signature && { [ANSWER_SIGNATURE_HEADER]: signature }) });
      response.end(body);
    }, key);

    expect(await client.request('GET', '/v2/generation')).toEqual({ generation: 3 });
    for (const refused of ['replayed', 'another key', 'unsigned'] as const) {
      mode = refused;
      const error = await client.request('GET', '/v2/generation').then(() => undefined, (caught: unknown) => caught);
      expect(error, refused).toBeInstanceOf(FlotillaError);
      expect((error as FlotillaError).exitCode, refused).toBe(ExitCode.integrity);
      expect((error as Error).message).toContain("answered GET /v2/generation without the domain key's signature");
    }
    mode = 'refusal';
    await expect(client.request('GET', '/v2/generation')).rejects.toThrow('busy');
  });
});
