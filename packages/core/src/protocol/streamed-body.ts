import { connect, type ConnectionOptions } from 'node:tls';
import { ExitCode, FlotillaError } from '../errors.js';
import { PeerUnreachableError, connectionError } from './peer-errors.js';

/**
 * Receives one HTTP/1.1 answer whose body may be gigabytes (a sync's content), read from the socket
 * into one buffer reused for the whole answer. Node's HTTP client allocates a fresh buffer for every
 * socket read: at a gigabyte, allocation and garbage collection cost more CPU than the SHA-256 check
 * of the same bytes (measured: 1.2 s against 0.2 s per GiB just to drain the answer). The MASTER
 * answers content with a plain `content-length` body, which is all this reader accepts.
 */

/** Where a streamed body goes. */
export interface BodySink {
  /**
   * The next piece of the body. Its memory is reused once this returns, or once the promise it
   * returns settles (nothing more is read meanwhile): copy what must be kept. A throw or a
   * rejection ends the transfer with that error.
   */
  data(chunk: Buffer): void | Promise<void>;
}

export interface StreamedRequest {
  host: string;
  port: number;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
  /** How the peer is verified (tls/options.ts clientTlsOptions), and a session to resume. */
  tls: ConnectionOptions;
  /** Told the session this connection may be resumed with, for the next one (a shorter handshake). */
  onSession?(session: Buffer): void;
  /** The answer fails when the peer sends nothing for this long (connecting included). */
  idleTimeoutMs: number;
  /** host:port, for messages. */
  where: string;
}

/** Bytes read from the socket at once (TLS hands over one record, up to 16 KiB, at a time). */
const READ_BUFFER_BYTES = 256 * 1024;
/** Our answers' heads are a few hundred bytes; a peer that sends more is not one of ours. */
const MAX_HEAD_BYTES = 16 * 1024;
/** An error answer is a short JSON message; more of it is not kept. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** A 200 answer's body went to the sink; any other status comes back with its (bounded) body. */
export type StreamedAnswer = { status: 200 } | { status: number; errorBody: Buffer };

interface Head {
  status: number;
  length: number;
}

/**
 * Sends `request` on a fresh connection and streams a 200 answer's body into `sink`; resolves once
 * every byte of it was taken.
 */
export function streamRequest(request: StreamedRequest, sink: BodySink): Promise<StreamedAnswer> {
  const { where } = request;
  return new Promise((resolve, reject) => {
    let headBytes: Buffer = Buffer.alloc(0);
    let head: Head | undefined;
    let remaining = 0;
    let errorBody: Buffer[] | undefined;
    let settled = false;

    const end = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      outcome();
    };
    const fail = (error: Error) => end(() => reject(error));
    const finishIfDone = () => {
      if (head && remaining === 0) end(() => resolve(errorBody ? { status: head!.status, errorBody: Buffer.concat(errorBody) } : { status: 200 }));
    };
    const listen = () => socket.setTimeout(request.idleTimeoutMs);

    /** Gathers the head from the first bytes; returns the body bytes that follow it, if it is complete. */
    const readHead = (chunk: Buffer): Buffer | undefined => {
      const gathered = Buffer.concat([headBytes, chunk]);
      const at = gathered.indexOf('\r\n\r\n');
      if (at < 0) {
        if (gathered.length > MAX_HEAD_BYTES) throw notOurs(request, `a head of more than ${MAX_HEAD_BYTES} bytes`);
        headBytes = gathered;
        return undefined;
      }
      head = parseHead(gathered.subarray(0, at).toString('latin1'), request);
      remaining = head.length;
      if (head.status !== 200) errorBody = [];
      return gathered.subarray(at + 4);
    };

    /** Passes a piece on; a promise when the sink (or the error body) needs the transfer to wait. */
    const take = (piece: Buffer): void | Promise<void> => {
      if (piece.length > remaining) throw notOurs(request, `${piece.length - remaining} bytes past its content-length`);
      remaining -= piece.length;
      if (!errorBody) return sink.data(piece);
      if (errorBody.reduce((sum, part) => sum + part.length, 0) < MAX_ERROR_BODY_BYTES) errorBody.push(Buffer.from(piece));
      return undefined;
    };

    /**
     * Takes the next bytes; false when the transfer must wait for the sink. The read buffer holds
     * the piece until the sink is done with it; meanwhile the silence is ours, not the peer's.
     * Paused, the socket times nothing out, so the answer cannot end under a sink still at work.
     */
    let waiting = false;
    /** The read buffer whose bytes the sink is at work on, if any: the next read goes to the other. */
    let held: Buffer | undefined;
    let closed = false;
    const backlog: Buffer[] = [];
    const endOfStream = () => {
      if (!head) return fail(new PeerUnreachableError(`${where} closed the connection before answering ${request.path}`));
      if (remaining > 0) fail(new PeerUnreachableError(`${where} stopped sending ${request.path} with ${remaining} of its ${head.length} bytes still to come`));
    };
    const proceed = (bytes: Buffer, source?: Buffer): boolean => {
      try {
        const piece = head ? bytes : readHead(bytes);
        const wait = piece && piece.length > 0 ? take(piece) : undefined;
        if (!wait) {
          finishIfDone();
          return !settled;
        }
        waiting = true;
        held = source;
        socket.pause();
        socket.setTimeout(0);
        wait.then(() => {
          waiting = false;
          held = undefined;
          finishIfDone();
          while (backlog.length > 0 && !waiting && !settled) proceed(backlog.shift()!);
          if (waiting || settled) return;
          if (closed) return endOfStream();
          listen();
          socket.resume();
        }, fail);
        return false;
      } catch (error) {
        fail(error as Error);
        return false;
      }
    };

    const readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    // A read is asked for its buffer before it happens, so one may land after the sink began a
    // wait (TLS hands over the records it has already decrypted even once paused): reads go to
    // whichever buffer the sink is not at work on, and those that arrive during a wait are kept,
    // in order.
    const spareBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    // Node's tls.connect takes net's onread (the plaintext lands in our buffers); its types omit it.
    const socket = connect({
      ...request.tls,
      host: request.host,
      port: request.port,
      onread: {
        buffer: () => (held === readBuffer ? spareBuffer : readBuffer),
        callback: (length: number, buffer: Buffer) => {
          if (settled) return false;
          const bytes = buffer.subarray(0, length);
          if (!waiting) return proceed(bytes, buffer);
          backlog.push(Buffer.from(bytes));
          // Still paused: returning false here would stop reading a second time, which resume()
          // does not undo.
          return true;
        },
      },
    } as ConnectionOptions);
    socket.setNoDelay(true);
    if (request.onSession) socket.on('session', request.onSession);
    listen();
    socket.on('timeout', () => fail(new PeerUnreachableError(`${where} sent nothing for ${request.idleTimeoutMs / 1000} s; giving up on ${request.path}`)));
    socket.on('error', (error: NodeJS.ErrnoException) => fail(connectionError(where, error)));
    socket.on('close', () => {
      closed = true;
      // A sink still at work, or bytes kept for it: the end is judged once they are taken.
      if (!waiting) endOfStream();
    });
    const headers = { host: where, connection: 'close', ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
    const lines = [`${request.method} ${request.path} HTTP/1.1`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n${request.body}`);
  });
}

function parseHead(text: string, request: StreamedRequest): Head {
  const [statusLine = '', ...fields] = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine);
  if (!status) throw notOurs(request, `a status line that is not HTTP/1.x (${JSON.stringify(statusLine.slice(0, 80))})`);
  let length: number | undefined;
  for (const field of fields) {
    const colon = field.indexOf(':');
    const name = field.slice(0, colon).trim().toLowerCase();
    const value = field.slice(colon + 1).trim();
    if (name === 'transfer-encoding') throw notOurs(request, `transfer-encoding ${value}`);
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value) || (length !== undefined && length !== Number(value))) throw notOurs(request, `content-length ${JSON.stringify(value)}`);
      length = Number(value);
    }
  }
  if (length === undefined) throw notOurs(request, 'no content-length');
  return { status: Number(status[1]), length };
}

function notOurs(request: StreamedRequest, what: string): FlotillaError {
  return new FlotillaError(`${request.where} answered ${request.path} with ${what}; is it a Flotilla MASTER of this version?`, ExitCode.failed);
}
