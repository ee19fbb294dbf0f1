/**
 * A fake MASTER that holds the domain key and a certificate from the domain's CA (the worst case:
 * it passes every check of the wire) hands a server manifests whose paths leave the cache. Each is
 * refused before anything is written, and nothing appears outside the cache's staging area.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANSWER_SIGNATURE_HEADER, AUTH_HEADERS, PROTOCOL_VERSION, answerSignature, bodyHash, hostsFor, issueCertificate, masterIdentity, newKeyPair, readDomainCa, trustProof, domainFiles } from '@flotilla/core';
import { onCleanup, run, tempHome } from '@flotilla/test-support';
import { createTestDomain, readKey } from '@flotilla/test-support/domain';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every path below `dir`, relative to it. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.map(String).sort();
}

describe('a forged manifest from a fake MASTER', () => {
  it('with a path that is absolute, climbs out with .., or is over-long: refused, nothing written outside the staging area', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'fm', ['server1']);
    const key = Buffer.from(await readKey(domain), 'hex');
    const ca = (await readDomainCa(domainFiles(domain.dir)))!;
    const keys = newKeyPair();
    const cert = await issueCertificate(ca, { identity: masterIdentity('fm'), commonName: 'adminServer', hosts: hostsFor('127.0.0.1', undefined), publicKey: keys.publicKey });
    const leaf = new X509Certificate(cert).raw;
    const config = await readFile(domain.configFile, 'utf8');
    let forged = '';
    let answerKey: Uint8Array = key;
    const fake = createServer({ key: keys.privateKey, cert }, (request, response) => {
      request.resume();
      const url = new URL(request.url ?? '/', 'https://fake');
      // It signs its answers as the MASTER does (with the key it holds, or with `answerKey`).
      const nonce = request.headers[AUTH_HEADERS.nonce];
      const answer = (body: string) => {
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(typeof nonce === 'string' && { [ANSWER_SIGNATURE_HEADER]: answerSignature(answerKey, nonce, 200, bodyHash(body)) }),
        });
        response.end(body);
      };
      if (url.pathname === '/v2/trust') return answer(JSON.stringify({ domain: 'fm', ca: ca.certificate, proof: trustProof(key, 'fm', url.searchParams.get('nonce')!, ca.certificate, leaf) }));
      if (url.pathname === '/v2/generation') return answer(forged);
      // Content for whatever is asked: the config, then the escaping file's five bytes.
      return answer(`${config}hello`);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => {
      fake.close(() => resolve());
      fake.closeAllConnections();
    }));
    const port = (fake.address() as AddressInfo).port;

    for (const [path, says] of [
      ['apps/hello/../../../../../../../escaped.txt', '..'],
      ['/tmp/escaped.txt', 'absolute'],
      [`apps/hello/${'x'.repeat(5000)}.js`, 'long'],
    ] as const) {
      const fresh = await tempHome();
      forged = JSON.stringify({
        protocol: PROTOCOL_VERSION,
        domain: 'fm',
        generation: 7,
        digest: 'ab'.repeat(32),
        files: [
          { path: 'config/domain.json5', size: Buffer.byteLength(config), mode: 0o644, mtime: 1_767_225_600_000, sha256: sha256(config) },
          { path, size: 5, mode: 0o644, mtime: 1_767_225_600_000, sha256: sha256('hello') },
        ],
        links: [],
        dirs: [],
      });
      const started = await run('managed', ['start', 'fm', 'server1', '--home', fresh, '--master', `127.0.0.1:${port}`, '--key-file', domain.keyFile]);
      expect(started.exitCode, started.stderr).toBe(4);
      expect(started.stderr).toContain('not a valid message');
      expect(started.stderr.toLowerCase()).toContain(says);
      const written = await tree(fresh);
      expect(written.filter((entry) => entry.endsWith('escaped.txt'))).toEqual([]);
      // No generation was made: at most the pinned CA and the server's bookkeeping.
      expect(written.filter((entry) => /gen-\d+/.test(entry))).toEqual([]);
    }
    expect(await readdir('/tmp')).not.toContain('escaped.txt');

    // Without the domain key (a thief of an old backup after a rotation, holding only the CA key),
    // even a good manifest is refused: the answer is not signed with the key the server holds.
    answerKey = Buffer.alloc(32, 7);
    forged = forged.replace(/"path":"apps\/hello\/x+\.js"/, '"path":"apps/hello/index.js"');
    const fresh = await tempHome();
    const started = await run('managed', ['start', 'fm', 'server1', '--home', fresh, '--master', `127.0.0.1:${port}`, '--key-file', domain.keyFile]);
    expect(started.exitCode, started.stderr).toBe(4);
    expect(started.stderr).toContain(`answered GET /v2/generation without the domain key's signature`);
    expect((await tree(fresh)).filter((entry) => /gen-\d+/.test(entry))).toEqual([]);
  });
});
