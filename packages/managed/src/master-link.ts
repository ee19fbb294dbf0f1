import type { IncomingMessage } from 'node:http';
import { API_PREFIX, ProtocolError, StreamEventSchema, parseMessage, type PeerClient, type StreamEvent } from '@flotilla/core';

/**
 * The MASTER pings every second down the event stream; this much silence means it (or its machine,
 * or the network) is gone even if no connection reset arrived.
 */
export const STREAM_SILENCE_MS = 3_500;

/** An event is a few dozen bytes; a line this long is not one, and is not buffered further. */
const MAX_EVENT_LINE = 64 * 1024;

/**
 * Follows the MASTER's event stream until it ends, for any reason. `onOpen` runs once the MASTER
 * accepted the stream; `onEvent` for each event. Resolves when the stream is over; rejects with a
 * ProtocolError, once the stream is closed, when the MASTER sent a line that is not an event of
 * our protocol (nothing after it is used).
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
  const where = `the event stream of the MASTER at ${client.where}`;
  // Thrown from here, never inside a listener: an uncaught error there would end the process.
  const refused = await new Promise<ProtocolError | undefined>((resolve) => {
    let buffered = '';
    let refusal: ProtocolError | undefined;
    const refuse = (error: ProtocolError) => {
      refusal = error;
      response.destroy();
    };
    let silence = setTimeout(() => response.destroy(), STREAM_SILENCE_MS);
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      clearTimeout(silence);
      silence = setTimeout(() => response.destroy(), STREAM_SILENCE_MS);
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline >= 0 && !refusal; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        let event: StreamEvent;
        try {
          event = parseMessage(StreamEventSchema, line, `an event from ${where}`);
        } catch (error) {
          refuse(error as ProtocolError);
          return;
        }
        onEvent(event);
      }
      if (buffered.length > MAX_EVENT_LINE) refuse(new ProtocolError(`${where} sent a line of more than ${MAX_EVENT_LINE} bytes, which is no event`));
    });
    const done = () => {
      clearTimeout(silence);
      resolve(refusal);
    };
    response.on('end', done);
    response.on('close', done);
    response.on('error', done);
  });
  if (refused) throw refused;
}
