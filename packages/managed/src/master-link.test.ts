import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PeerClient, ProtocolError, type StreamEvent } from '@flotilla/core';
import { onCleanup, waitFor } from '../../../test-support/index.js';
import { testTls } from '../../../test-support/management.js';
import { followEvents } from './master-link.js';

const DIGEST = 'cd'.repeat(32);

/** A stand-in MASTER that answers the event stream with `lines` and keeps the connection open. */
async function fakeMaster(lines: string): Promise<{ server: Server; client: PeerClient; closed: () => boolean }> {
  let response: ServerResponse | undefined;
  let closed = false;
  const tls = await testTls();
  const server = createServer(tls.credentials, (_request, answer) => {
    response = answer;
    answer.on('close', () => (closed = true));
    answer.writeHead(200, { 'content-type': 'application/x-ndjson' });
    answer.write(lines);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new PeerClient({ address: '127.0.0.1', port: (server.address() as AddressInfo).port }, { key: Buffer.alloc(32, 1), sender: 'server1', trust: tls });
  onCleanup(async () => {
    client.close();
    response?.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { server, client, closed: () => closed };
}

describe('following the event stream', () => {
  const good = `${JSON.stringify({ type: 'generation', generation: 4, digest: DIGEST })}\n`;
  // What follows a bad line, a good event, is not used.
  const cases: Array<[string, string, string]> = [
    ['a line that is not JSON', `not json\n${good}`, 'is not JSON'],
    ['an unknown event', `${JSON.stringify({ type: 'self-destruct' })}\n${good}`, 'type:'],
    ['an event with a key we do not know', `${JSON.stringify({ type: 'ping', extra: true })}\n${good}`, 'Unrecognized key: "extra"'],
    ['a line that never ends', 'x'.repeat(70 * 1024), 'a line of more than 65536 bytes'],
  ];
  for (const [name, bad, says] of cases) {
    it(`ends the stream on ${name}, with the reason, after the events before it`, async () => {
      const master = await fakeMaster(`${good}${bad}`);
      const events: StreamEvent[] = [];
      const followed = followEvents(master.client, 'server1', () => {}, (event) => events.push(event));
      await expect(followed).rejects.toThrow(ProtocolError);
      await expect(followed).rejects.toThrow(`the event stream of the MASTER at ${master.client.where}`);
      await expect(followed).rejects.toThrow(says);
      expect(events).toEqual([{ type: 'generation', generation: 4, digest: DIGEST }]);
      await waitFor('the MASTER to see the stream closed', master.closed, 5_000);
    });
  }
});
