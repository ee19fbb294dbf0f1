/**
 * A managed server whose MASTER speaks garbage (issue 13): an impostor holding the domain key and a
 * certificate from the domain's CA (the worst case, it passes every check of the wire) takes the
 * real MASTER's place. A malformed line on the event stream and a manifest of another protocol
 * version are each refused with a log line; the server keeps running, keeps serving its cached
 * applications, and writes nothing to its cache.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANSWER_SIGNATURE_HEADER, AUTH_HEADERS, PROTOCOL_VERSION, answerSignature, bodyHash, domainFiles, hostsFor, issueCertificate, masterIdentity, newKeyPair, readDomainCa } from '@flotilla/core';
import { onCleanup, run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, managedStatus, readKey, startManaged, startMaster, type TestDomain } from '@flotilla/test-support/domain';
import { snapshot } from '@flotilla/test-support/domain-trees';

const APPS = '  applications: { hello: { context: "/hello", targets: ["cluster1"] } },\n';

async function writeHelloApp(domain: TestDomain): Promise<void> {
  const dir = join(domain.dir, 'apps', 'hello');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'index.js'), "require('node:http').createServer((req, res) => res.end('hello\\n')).listen(process.env.PORT);\n");
}

async function answers(http: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${http}/hello/`).catch(() => undefined);
  return response?.status === 200 && (await response.text()) === 'hello\n';
}

/** What the impostor answers on the event stream and for the generation's manifest. */
interface Garbage {
  events: string;
  manifest: string;
}

/** An impostor on the MASTER's port, with a certificate of the domain's CA and the key: it counts what it was asked. */
async function impostor(domain: TestDomain, garbage: Garbage): Promise<{ asked: string[] }> {
  const ca = (await readDomainCa(domainFiles(domain.dir)))!;
  const key = Buffer.from(await readKey(domain), 'hex');
  const keys = newKeyPair();
  const cert = await issueCertificate(ca, { identity: masterIdentity(domain.name), commonName: 'adminServer', hosts: hostsFor('127.0.0.1', undefined), publicKey: keys.publicKey });
  const asked: string[] = [];
  const fake = createServer({ key: keys.privateKey, cert }, (request, response) => {
    request.resume();
    const path = new URL(request.url ?? '/', 'https://fake').pathname;
    asked.push(path);
    if (path === '/v2/events') {
      // The stream stays open after the garbage: the server must end it itself.
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.write(garbage.events);
      return;
    }
    const body = path === '/v2/generation' ? garbage.manifest : '{}';
    const nonce = String(request.headers[AUTH_HEADERS.nonce]);
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [ANSWER_SIGNATURE_HEADER]: answerSignature(key, nonce, 200, bodyHash(body)) });
    response.end(body);
  });
  await new Promise<void>((resolve) => fake.listen(domain.masterPort, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => {
    fake.close(() => resolve());
    fake.closeAllConnections();
  }));
  return { asked };
}

describe('a managed server whose MASTER sends what no MASTER sends', () => {
  it('refuses a malformed event line and a manifest of another protocol, keeps serving its cache and writes nothing', { timeout: 120_000 }, async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'hm', ['server1'], APPS);
    await writeHelloApp(domain);
    const master = await startMaster(domain);
    const first = await startManaged(home, 'hm', 'server1');
    await waitFor('the application answering', () => answers(domain.servers.server1!.http));
    expect((await run('managed', ['stop', 'hm', 'server1', '--home', home])).exitCode).toBe(0);
    await first.child;
    expect((await run('master', ['stop', 'hm', '--home', home])).exitCode).toBe(0);
    await master.child;
    const cacheDir = join(home, 'domains', 'hm', 'servers', 'server1', 'cache');
    const before = await snapshot(cacheDir);

    // A stream whose hello names a newer generation than the cache, and whose manifest is of another
    // protocol; then, on the next streams, a line that is no event at all.
    let streams = 0;
    const newer = JSON.stringify({ type: 'generation', generation: 99, digest: 'ab'.repeat(32) });
    const manifest = JSON.stringify({ protocol: PROTOCOL_VERSION + 1, domain: 'hm', generation: 99, digest: 'ab'.repeat(32), files: [], links: [], dirs: [] });
    const fake = await impostor(domain, {
      get events() {
        streams++;
        return streams === 1 ? `${newer}\n` : '{"type": "generation", garbage\n';
      },
      manifest,
    });

    const server = await startManaged(home, 'hm', 'server1');
    await waitFor('the manifest asked for and the stream opened again after it', () => fake.asked.includes('/v2/generation') && streams >= 2, 60_000);
    await waitFor('the malformed line refused', () => /event stream of the MASTER at [^ ]+ is not JSON/.test(server.stderr()) && streams >= 3, 60_000);
    expect(server.stderr()).toContain(`speaks protocol version ${PROTOCOL_VERSION + 1}, this Flotilla speaks ${PROTOCOL_VERSION}`);
    expect(server.child.exitCode).toBeNull();
    expect(await answers(domain.servers.server1!.http)).toBe(true);
    const status = await managedStatus(home, 'hm', 'server1');
    expect(status).toMatchObject({ mode: 'INDEPENDENT', generation: 1 });
    expect(server.stderr()).not.toContain('SYS-0001');
    expect(await snapshot(cacheDir)).toEqual(before);
  });
});
