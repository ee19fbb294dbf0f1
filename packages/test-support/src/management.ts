/**
 * Raw requests to management ports, for tests that must send what Flotilla's own client never
 * would (unsigned, replayed, hostile): over TLS, trusting the domain's CA, as curl --cacert does.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import {
  createDomainCa,
  domainFiles,
  hostsFor,
  issueCertificate,
  masterIdentity,
  newKeyPair,
  serverIdentity,
  signRequest,
  type TlsCredentials,
} from '@flotilla/core';
import { Agent, fetch as undiciFetch } from 'undici';
import { tempHome } from './index.js';
import type { TestDomain } from './domain.js';

export interface Answer {
  status: number;
  body: Buffer;
  text: string;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The CA to trust (PEM); the peer's identity is not checked, only its chain. */
  ca: string;
}

/**
 * Sends one request on its own connection. A peer that closes without answering (as the MASTER
 * does to a body it will not read) comes back as status 0.
 */
export function sendRaw(port: number, raw: RawRequest): Promise<Answer> {
  const body = raw.body ?? '';
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: raw.method ?? 'GET',
        path: raw.path,
        agent: false,
        ca: raw.ca,
        checkServerIdentity: () => undefined,
        headers: { ...raw.headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const all = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, body: all, text: all.toString() });
        });
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve({ status: 0, body: Buffer.alloc(0), text: '' }) : reject(error),
    );
    req.end(body);
  });
}

/** The domain's CA certificate, as `curl --cacert` would read it. */
export function domainCa(domain: TestDomain): Promise<string> {
  return readFile(join(domain.dir, 'config', 'security', 'ca.crt'), 'utf8');
}

/** Signature headers for a request to `receiver` (`master` or a server's name) of `domain`. */
export function signedFor(key: Uint8Array, domain: string, receiver: string, method: string, path: string, body: string | Buffer = '', sender = 'cli'): Record<string, string> {
  const identity = receiver === 'master' ? masterIdentity(domain) : serverIdentity(domain, receiver);
  return signRequest(key, { method, path, sender, receiver: identity, body });
}

export interface TestTls {
  ca: string;
  credentials: TlsCredentials;
  identity: string;
}

/** A CA of its own and a certificate from it for 127.0.0.1, for tests that run a peer themselves. */
export async function testTls(identity = masterIdentity('test')): Promise<TestTls> {
  const files = domainFiles(join(await tempHome(), 'domain'));
  await mkdir(files.securityDir, { recursive: true });
  const ca = await createDomainCa(files, 'test');
  const keys = newKeyPair();
  const cert = await issueCertificate(ca, { identity, commonName: 'test', hosts: hostsFor('127.0.0.1', undefined), publicKey: keys.publicKey });
  return { ca: ca.certificate, credentials: { key: keys.privateKey, cert }, identity };
}

/** `fetch` that trusts `ca` (the domain's CA), as a browser that imported ca.crt would. */
export function fetchTrusting(ca: string): (url: string, init?: RequestInit) => Promise<Response> {
  const dispatcher = new Agent({ connect: { ca } });
  return (url, init = {}) => undiciFetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}
