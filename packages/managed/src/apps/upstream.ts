import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';

/**
 * The proxy's connections to one application process (127.0.0.1, a child of this server): kept
 * alive and reused, each request's head written as one string, each answer parsed by Node's own
 * HTTP parser (llhttp, the one node:http's client uses, here without its client machinery), reads
 * going straight from the socket to the parser. The server's CPU for a small proxied answer is
 * about 27% lower than through undici's pool (docs/architecture.md), and CPU is what bounds a
 * proxy's throughput on a busy machine.
 *
 * What the application answers is parsed as hostile: a parse error, a head too large, bytes it sent
 * unasked or after its answer end the connection, and the request fails (its handler's `onError`).
 */

/** The part of `node:_http_common`'s HTTPParser (a binding to llhttp) used here. */
interface HttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes parsed, or the parse error (an Error with `code` HPE_...). */
  execute(data: Buffer): number | Error;
  /** The end of the stream: completes an answer that ends at EOF, an error for one cut short. */
  finish(): Error | undefined;
  close(): void;
  [callback: number]: unknown;
}
interface HttpParserClass {
  new (): HttpParser;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}
const { HTTPParser } = createRequire(import.meta.url)('node:_http_common') as { HTTPParser: HttpParserClass };

/** Connections kept to one process at most; requests beyond it wait for one (the undici pool before was set so too). */
const MAX_CONNECTIONS = 256;
/**
 * An idle connection is not reused this close to the end of the idle time the application announced
 * (`Keep-Alive: timeout=N`), nor after `IDLE_DEFAULT_MS` when it announced none: it would race the
 * application's own close. The figures are undici's.
 */
const IDLE_MARGIN_MS = 2_000;
const IDLE_DEFAULT_MS = 4_000;
/**
 * What every connection reads into. One buffer serves them all: a read is parsed before the next
 * one starts (libuv calls back after each read, on this one thread), and the parser's callbacks keep
 * no view of it (headers are strings, body chunks are copied).
 */
const READS = Buffer.allocUnsafe(256 * 1024);
/** Blocks of READS' size that copies of large body chunks go into (see Connection.onBody). */
const SPARES: Buffer[] = [];
const MAX_SPARES = 32;
const SPARE_FROM = 16 * 1024;
/** Methods a request of which can be sent again when a reused connection closed before any answer. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

/** One request through the upstream, and the receiver of its answer (the proxy's exchange). */
export interface UpstreamCall {
  readonly method: string;
  /** The request line, headers and the blank line, in latin1 (as node:http gives header values). */
  readonly head: string;
  /** The body to send after the head, if any; `chunked` when the head says Transfer-Encoding: chunked. */
  readonly body: Readable | null;
  readonly chunked: boolean;
  /** The connection carries the request: `abort` ends it, `resume` follows a paused `onBody`. */
  onConnection(connection: UpstreamConnection): void;
  /** The final answer's head (1xx ones are skipped), headers flat as name, value, name, value. */
  onHead(status: number, reason: string, headers: string[]): void;
  /**
   * A piece of the body; false to pause the application until `resume()`. When `written` is given,
   * the chunk's memory is the upstream's again once it is called: call it when the chunk is written.
   */
  onBody(chunk: Buffer, written: (() => void) | undefined): boolean;
  onEnd(): void;
  /** The request failed (no answer, or part of one). */
  onError(error: Error): void;
}

export interface UpstreamConnection {
  abort(): void;
  resume(): void;
}

class Connection implements UpstreamConnection {
  readonly socket: Socket;
  private readonly parser: HttpParser;
  private call?: UpstreamCall;
  private headers: string[] = [];
  /** The answer being parsed is a 1xx one: the final answer follows on this request. */
  private informational = false;
  private answered = false;
  private complete = false;
  private keepAlive = false;
  private bodySent = true;
  private garbage?: Error;
  /** This connection has carried a request before: a close with no answer may be a race with its idle timeout. */
  reused = false;
  idleUntil = 0;

  constructor(
    private readonly upstream: Upstream,
    port: number,
  ) {
    // Read into the shared buffer, straight to the parser: no stream machinery for each read.
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true, onread: { buffer: READS, callback: this.onRead } });
    this.parser = new HTTPParser();
    this.parser.initialize(HTTPParser.RESPONSE, {}, 0, 0);
    this.parser[HTTPParser.kOnMessageBegin] = () => this.onMessageBegin();
    this.parser[HTTPParser.kOnHeaders] = (headers: string[]) => this.headers.push(...headers);
    this.parser[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, headers: string[] | undefined, _method: unknown, _url: unknown, status: number, reason: string, _upgrade: boolean, keepAlive: boolean) =>
      this.onHeadersComplete(headers, status, reason, keepAlive);
    this.parser[HTTPParser.kOnBody] = (chunk: Buffer) => {
      if (this.call && !this.complete && !this.garbage && !this.onBody(this.call, chunk)) this.socket.pause();
    };
    this.parser[HTTPParser.kOnMessageComplete] = () => this.onMessageComplete();
    this.socket.on('end', () => this.onEnd());
    this.socket.on('error', (error) => (this.garbage ??= error));
    this.socket.on('close', () => this.onClose());
  }

  send(call: UpstreamCall): void {
    this.call = call;
    this.answered = false;
    this.complete = false;
    call.onConnection(this);
    if (this.call !== call) return; // aborted at once: the client is gone
    const socket = this.socket;
    const body = call.body;
    if (!body) {
      this.bodySent = true;
      socket.write(call.head, 'latin1');
      return;
    }
    this.bodySent = false;
    socket.write(call.head, 'latin1');
    const chunked = call.chunked;
    const onData = (chunk: Buffer) => {
      if (this.call !== call) return;
      let more: boolean;
      if (chunked) {
        socket.cork(); // the chunk and its framing in one write
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        more = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else more = socket.write(chunk);
      if (!more) {
        body.pause();
        socket.once('drain', () => body.resume());
      }
    };
    body.on('data', onData);
    body.once('end', () => {
      if (this.call !== call) return; // failed, or answered before it was all sent: the connection closes
      if (chunked) socket.write('0\r\n\r\n');
      this.bodySent = true;
    });
  }

  abort(): void {
    this.call = undefined;
    this.socket.destroy();
  }

  resume(): void {
    this.socket.resume();
  }

  private onMessageBegin(): void {
    // An answer no request is waiting for (sent unasked, or after the last one ended): the
    // connection's stream can no longer be trusted to match answers with requests.
    if (!this.call || this.complete) this.garbage ??= new Error('it sent an answer nobody asked for');
  }

  private onHeadersComplete(headers: string[] | undefined, status: number, reason: string, keepAlive: boolean): number {
    const all = headers ?? this.headers;
    this.headers = [];
    const call = this.call;
    if (!call || this.garbage) return 0;
    this.informational = status < 200;
    if (this.informational) {
      if (status === 101) this.garbage = new Error('it switched protocols on a request that did not ask for it');
      return 0;
    }
    this.answered = true;
    this.keepAlive = keepAlive;
    this.idleUntil = idleDeadline(all);
    call.onHead(status, reason, all);
    return call.method === 'HEAD' ? 1 : 0; // 1: no body follows, whatever Content-Length says
  }

  /**
   * A copy of the chunk goes on: the chunk is a view of the shared buffer, which the next read
   * overwrites. A large one is copied into a kept block, back among the spares once written: fresh
   * memory for each would cost page faults and major collections (a download is mostly large chunks).
   */
  private onBody(call: UpstreamCall, chunk: Buffer): boolean {
    if (chunk.length < SPARE_FROM) return call.onBody(Buffer.from(chunk), undefined);
    const block = SPARES.pop() ?? Buffer.allocUnsafeSlow(READS.length);
    chunk.copy(block);
    return call.onBody(block.subarray(0, chunk.length), () => {
      if (SPARES.length < MAX_SPARES) SPARES.push(block);
    });
  }

  private onMessageComplete(): void {
    if (this.informational) {
      this.informational = false;
      return;
    }
    const call = this.call;
    if (!call || this.complete) return;
    this.complete = true;
    call.onEnd();
  }

  /** Backpressure is the body's (`socket.pause()` in onBody): true, so that the read itself never pauses. */
  private readonly onRead = (length: number): boolean => {
    this.onData(READS.subarray(0, length));
    return true;
  };

  private onData(chunk: Buffer): void {
    if (!this.call || this.complete) {
      this.socket.destroy(); // bytes on an idle connection
      return;
    }
    const parsed = this.parser.execute(chunk);
    if (typeof parsed !== 'number') this.garbage ??= new Error(`its answer is not HTTP (${(parsed as { code?: string }).code ?? parsed.message})`);
    if (this.garbage) {
      this.fail(this.garbage);
      return;
    }
    if (this.complete) this.settle();
  }

  /** The answer is complete: the connection takes the next request, unless it cannot. */
  private settle(): void {
    this.call = undefined;
    if (this.keepAlive && this.bodySent) {
      if (this.socket.isPaused()) this.socket.resume(); // by the answer's last chunk
      this.reused = true;
      this.upstream.release(this);
    } else this.socket.destroy();
  }

  private onEnd(): void {
    // An answer delimited by the connection's end is complete now; one cut short is an error.
    if (!this.call || this.complete) return;
    const error = this.parser.finish();
    if (error) this.garbage ??= new Error(`its answer ended early (${(error as { code?: string }).code ?? error.message})`);
    if (this.complete) this.call = undefined;
  }

  private fail(error: Error): void {
    const call = this.call;
    this.call = undefined;
    this.socket.destroy();
    if (call && !this.complete) call.onError(error);
  }

  private onClose(): void {
    this.parser.close();
    this.upstream.closed(this);
    const call = this.call;
    if (!call || this.complete) return;
    this.call = undefined;
    // A reused connection the application closed before answering: most likely it closed it as
    // idle while the request was on its way. A request without a body is sent once more, on a new one.
    if (this.reused && !this.answered && !call.body && IDEMPOTENT.has(call.method) && !this.upstream.destroyed) this.upstream.retry(call);
    else call.onError(this.garbage ?? new Error('it closed the connection before its answer ended'));
  }
}

/** When an idle connection stops being offered, from the answer's Keep-Alive header. */
function idleDeadline(headers: string[]): number {
  let idle = IDLE_DEFAULT_MS;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length === 10 && headers[i]!.toLowerCase() === 'keep-alive') {
      const timeout = /timeout=(\d+)/i.exec(headers[i + 1]!);
      if (timeout) idle = Number(timeout[1]) * 1000 - IDLE_MARGIN_MS;
    }
  }
  return performance.now() + idle;
}

/** Kept-alive connections to one application process, on its port. */
export class Upstream {
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  private readonly waiting: UpstreamCall[] = [];
  destroyed = false;

  constructor(readonly port: number) {}

  request(call: UpstreamCall): void {
    if (this.destroyed) return call.onError(new Error('its process was replaced'));
    const now = performance.now();
    // The most recently used connection first: it is the least likely to be closed as idle.
    for (let connection = this.idle.pop(); connection; connection = this.idle.pop()) {
      if (connection.idleUntil > now) return connection.send(call);
      connection.socket.destroy();
    }
    if (this.open.size >= MAX_CONNECTIONS) this.waiting.push(call);
    else this.connect().send(call);
  }

  /** A request whose reused connection closed unanswered: on a new connection, never an idle one. */
  retry(call: UpstreamCall): void {
    if (this.open.size >= MAX_CONNECTIONS) this.waiting.unshift(call);
    else this.connect().send(call);
  }

  release(connection: Connection): void {
    const next = this.waiting.shift();
    if (next) connection.send(next);
    else this.idle.push(connection);
  }

  closed(connection: Connection): void {
    this.open.delete(connection);
    const at = this.idle.indexOf(connection);
    if (at !== -1) this.idle.splice(at, 1);
    const next = this.waiting.shift();
    if (next) this.request(next);
  }

  /** Ends every connection, and the requests on them (the process is stopped or moved to a new port). */
  destroy(): void {
    this.destroyed = true;
    for (const call of this.waiting.splice(0)) call.onError(new Error('its process was replaced'));
    for (const connection of this.open) connection.socket.destroy();
  }

  private connect(): Connection {
    const connection = new Connection(this, this.port);
    this.open.add(connection);
    return connection;
  }
}
