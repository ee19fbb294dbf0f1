import type { IncomingMessage } from 'node:http';
import { API_PREFIX, type PeerClient, type StreamEvent } from '@flotilla/core';

/**
 * The MASTER pings every second down the event stream; this much silence means it (or its machine,
 * or the network) is gone even if no connection reset arrived.
 */
export const STREAM_SILENCE_MS = 3_500;

/**
 * Follows the MASTER's event stream until it ends, for any reason. `onOpen` runs once the MASTER
 * accepted the stream; `onEvent` for each event. Resolves when the stream is over.
 */
export async function followEvents(
  client: PeerClient,
  server: string,
  onOpen: () => void,
  onEvent: (event: StreamEvent) => void,
): Promise<void> {
  const response: IncomingMessage = await client.open('GET', `${API_PREFIX}/events?server=${encodeURIComponent(server)}`);
  if (response.statusCode !== 200) {
    response.resume();
    throw new Error(`the MASTER refused the event stream (HTTP ${response.statusCode})`);
  }
  onOpen();
  await new Promise<void>((resolve) => {
    let buffered = '';
    let silence = setTimeout(() => response.destroy(), STREAM_SILENCE_MS);
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      clearTimeout(silence);
      silence = setTimeout(() => response.destroy(), STREAM_SILENCE_MS);
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line) onEvent(JSON.parse(line) as StreamEvent);
      }
    });
    const done = () => {
      clearTimeout(silence);
      resolve();
    };
    response.on('end', done);
    response.on('close', done);
    response.on('error', done);
  });
}
