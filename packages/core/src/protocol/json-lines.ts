import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { ProtocolError, parseMessage } from './parse-message.js';

/**
 * The messages of a JSON-lines answer, each checked by `schema`, as they arrive. A line that is
 * not one (or longer than `maxLine`) ends it with a ProtocolError; nothing after it is used.
 */
export async function* readJsonLines<S extends z.ZodType>(response: IncomingMessage, schema: S, where: string, maxLine: number): AsyncGenerator<z.output<S>> {
  let buffered = '';
  response.setEncoding('utf8');
  for await (const chunk of response as AsyncIterable<string>) {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line) yield parseMessage(schema, line, where);
    }
    if (buffered.length > maxLine) {
      response.destroy();
      throw new ProtocolError(`${where} sent a line of more than ${maxLine} characters`);
    }
  }
}

/**
 * Answers with JSON lines, one per message of `messages`, waiting for the asker to read (no more
 * than a socket's worth buffered); stops when the asker goes away.
 */
export async function sendJsonLines(response: ServerResponse, messages: AsyncIterable<unknown>): Promise<void> {
  response.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  response.flushHeaders();
  for await (const message of messages) {
    if (response.destroyed) break;
    if (!response.write(`${JSON.stringify(message)}\n`)) {
      await new Promise((resolve) => {
        response.once('drain', resolve);
        response.once('close', resolve);
      });
    }
  }
  response.end();
}
