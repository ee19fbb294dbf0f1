import { createReadStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { ExitCode, FlotillaError, UsageError, type ExitCodeValue } from '../errors.js';
import { ProtocolError } from './parse-message.js';
import { clientTlsOptions, type PeerTrust } from '../tls/options.js';
import { ANSWER_SIGNATURE_HEADER, AUTH_HEADERS, answerSigned, signRequest } from './auth.js';
import { PeerUnreachableError, connectionError } from './peer-errors.js';
import { streamRequest, type BodySink } from './streamed-body.js';
import { ErrorBodySchema, type MasterAddress } from './sync.js';

/** Long enough for a busy peer, short enough that an operator is not left waiting on a dead one. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/**
 * Answers up to this size (a configuration, small application files) are received like any other
 * answer: Node's per-read buffers, the reason for streamed-body.ts, cost nothing at this size.
 */
export const KEPT_CONNECTION_MAX_BYTES = 256 * 1024;

export interface RequestOptions {
  timeoutMs?: number;
  body?: unknown;
  /** Sent without a signature: for the public routes (a key refresh proves itself in its body). */
  unsigned?: true;
}

/** The peer refused our signature (401): the key we sign with is not, or no longer, the domain's. */
export class PeerRefusedKeyError extends UsageError {}

/** What a client needs to talk to one peer: the key it signs with, its own name, and whom it trusts. */
export interface PeerCredentials {
  key: Uint8Array;
  /** The sender named in every request: a server's name, or `cli`. */
  sender: string;
  /** The domain's CA, and the identity the peer must have (it is also the receiver every request is signed for). */
  trust: PeerTrust;
}

/**
 * A signed HTTPS client for one peer (the MASTER, or an MS's management port), which verifies the
 * peer against the domain's CA and its identity. Errors come back as FlotillaErrors with the exit
 * code the peer meant, PeerUnreachableError (exit 3) or PeerNotTrustedError (exit 4).
 */
export class PeerClient {
  private readonly agent: Agent;
  /** The last content connection's TLS session: the next one resumes it. */
  private session?: Buffer;

  constructor(
    readonly peer: MasterAddress,
    private readonly credentials: PeerCredentials,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 16, ...clientTlsOptions(credentials.trust) });
  }

  private sign(method: string, path: string, body: string, hash?: string): Record<string, string> {
    const { key, sender, trust } = this.credentials;
    return signRequest(key, { method, path, sender, receiver: trust.identity, body, ...(hash !== undefined && { bodyHash: hash }) });
  }

  get where(): string {
    return `${this.peer.address}:${this.peer.port}`;
  }

  /** Sends a request and returns the response once its headers arrive (the body is the caller's). */
  async open(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    return (await this.send(method, path, options)).response;
  }

  /** The answer's JSON, not yet checked: the caller parses it with its schema (parseMessage). */
  async request(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<unknown> {
    const { response, signature } = await this.send(method, path, options);
    const text = await readAll(response, options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, this.where);
    if (response.statusCode !== 200) throw errorFrom(response.statusCode ?? 0, text, this.where);
    if (signature) this.checkAnswer(signature, response, text, `${method} ${path}`);
    try {
      return JSON.parse(text.toString('utf8'));
    } catch {
      throw new ProtocolError(`${this.where} answered ${method} ${path} with something that is not JSON`);
    }
  }

  /**
   * A 200 answer to a signed request (`signature`: the request's authentication headers) counts
   * only when signed with our key for that request's nonce (auth.ts, answerSignature): passing TLS
   * with a certificate of the domain's CA is not enough. Refusals need no signature: believed or
   * not, they change nothing here.
   */
  private checkAnswer(signature: Record<string, string>, response: IncomingMessage, text: Buffer, what: string): void {
    if (answerSigned(this.credentials.key, signature[AUTH_HEADERS.nonce]!, 200, text, response.headers[ANSWER_SIGNATURE_HEADER])) return;
    throw new ProtocolError(`${this.where} answered ${what} without the domain key's signature: it is not a peer of this domain (or holds another key)`);
  }

  private send(method: 'GET' | 'POST', path: string, options: RequestOptions): Promise<{ response: IncomingMessage; signature?: Record<string, string> }> {
    const body = options.body === undefined ? '' : JSON.stringify(options.body);
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const signature = options.unsigned ? undefined : this.sign(method, path, body);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: this.peer.address,
          port: this.peer.port,
          method,
          path,
          agent: this.agent,
          headers: {
            ...signature,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          clearTimeout(timer);
          resolve({ response, ...(signature && { signature }) });
        },
      );
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(connectionError(this.where, error));
      });
      req.end(body);
    });
  }

  /**
   * POSTs `body` and streams the answer's body into `sink` (see streamed-body.ts: for gigabytes of
   * content); a non-200 answer rejects with the error the peer sent. An answer the caller knows to be
   * at most KEPT_CONNECTION_MAX_BYTES (`expectedBytes`, from a manifest) travels on a kept-alive
   * connection instead.
   */
  async receive(path: string, body: unknown, sink: BodySink, idleTimeoutMs: number, expectedBytes?: number): Promise<void> {
    if (expectedBytes !== undefined && expectedBytes <= KEPT_CONNECTION_MAX_BYTES) return this.receiveSmall(path, body, sink, idleTimeoutMs);
    const text = JSON.stringify(body);
    const answer = await streamRequest(
      {
        host: this.peer.address,
        port: this.peer.port,
        method: 'POST',
        path,
        headers: { ...this.sign('POST', path, text), 'content-type': 'application/json' },
        body: text,
        tls: { ...clientTlsOptions(this.credentials.trust), session: this.session },
        onSession: (session) => {
          this.session = session;
        },
        idleTimeoutMs,
        where: this.where,
      },
      sink,
    );
    if ('errorBody' in answer) throw errorFrom(answer.status, answer.errorBody, this.where);
  }

  /**
   * A small answer on one of the agent's kept-alive connections: a change to a domain's
   * configuration has every server fetch a few kilobytes at once, and a fresh connection each
   * (its TLS handshake, its accept and close) costs both ends more than the bytes do.
   */
  private async receiveSmall(path: string, body: unknown, sink: BodySink, idleTimeoutMs: number): Promise<void> {
    const response = await this.open('POST', path, { body, timeoutMs: idleTimeoutMs });
    if (response.statusCode !== 200) throw errorFrom(response.statusCode ?? 0, await readAll(response, idleTimeoutMs, this.where), this.where);
    let silence: NodeJS.Timeout | undefined;
    const heard = () => {
      clearTimeout(silence);
      silence = setTimeout(() => response.destroy(new Error(`sent nothing for ${idleTimeoutMs / 1000} s`)), idleTimeoutMs);
    };
    heard();
    try {
      // An answer cut short of its content-length ends this loop with the connection's error.
      for await (const chunk of response) {
        clearTimeout(silence);
        await sink.data(chunk as Buffer);
        heard();
      }
    } catch (error) {
      if (response.errored !== error) throw error;
      throw new PeerUnreachableError(`${this.where} stopped sending ${path} mid-answer (${(error as Error).message})`, { cause: error });
    } finally {
      clearTimeout(silence);
    }
  }

  /**
   * POSTs the file `file` as the body, streamed from disk: `sha256` and `bytes` are its hash and
   * size, which the signature covers and the peer checks on arrival. The JSON answer, not yet checked.
   */
  async upload(path: string, file: string, content: { sha256: string; bytes: number }, timeoutMs: number): Promise<unknown> {
    const signature = this.sign('POST', path, '', content.sha256);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpsRequest({
        host: this.peer.address,
        port: this.peer.port,
        method: 'POST',
        path,
        agent: this.agent,
        headers: { ...signature, 'content-type': 'application/zip', 'content-length': content.bytes },
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
      // A peer that refuses answers before it has read everything: its answer is what counts.
      req.on('response', (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(connectionError(this.where, error));
      });
      pipeline(createReadStream(file), req).catch(() => {
        // The request's own error (or its early answer) settles the promise.
      });
    });
    const text = await readAll(response, timeoutMs, this.where);
    if (response.statusCode !== 200) throw errorFrom(response.statusCode ?? 0, text, this.where);
    this.checkAnswer(signature, response, text, `POST ${path}`);
    try {
      return JSON.parse(text.toString('utf8'));
    } catch {
      throw new ProtocolError(`${this.where} answered POST ${path} with something that is not JSON`);
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

async function readAll(response: IncomingMessage, timeoutMs: number, where: string): Promise<Buffer> {
  const timer = setTimeout(() => response.destroy(new Error(`${where} stopped answering`)), timeoutMs);
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } catch (error) {
    throw new PeerUnreachableError(`${where} stopped answering mid-response`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** An error answer is a short JSON document; more is not one. */
const MAX_ERROR_BODY = 64 * 1024;

/** The error in a response that is not 200, read (at most MAX_ERROR_BODY of it) and the response ended. */
export async function refusalOf(response: IncomingMessage, where: string): Promise<FlotillaError> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response) {
      size += (chunk as Buffer).length;
      if (size > MAX_ERROR_BODY) break;
      chunks.push(chunk as Buffer);
    }
  } catch {
    // cut off mid-answer: what arrived says what it can
  } finally {
    response.destroy();
  }
  return errorFrom(response.statusCode ?? 0, Buffer.concat(chunks), where);
}

/** The error a peer answered, with the exit code it meant; an answer that is not one of ours says only its status. */
export function errorFrom(status: number, text: Buffer | string, where: string): FlotillaError {
  try {
    const body = ErrorBodySchema.safeParse(JSON.parse(text.toString()));
    if (body.success && status === 401) return new PeerRefusedKeyError(body.data.error);
    if (body.success) return new FlotillaError(body.data.error, EXIT_CODES.has(body.data.exitCode) ? (body.data.exitCode as ExitCodeValue) : ExitCode.failed);
  } catch {
    // not JSON: fall through to the generic message
  }
  return new FlotillaError(`${where} answered HTTP ${status}`, ExitCode.failed);
}

const EXIT_CODES = new Set<number>(Object.values(ExitCode));
