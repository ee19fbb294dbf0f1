import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_CONTENT_HASHES, signRequest } from '@flotilla/core';
import { tempHome } from '../../../../test-support/index.js';
import { createTestDomain, readKey, startMaster } from '../../../../test-support/domain.js';

interface Answer {
  status: number;
  body: Buffer;
}

function post(port: number, path: string, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    // The MASTER answers 413 without reading the rest of an oversized body, then closes.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve({ status: 413, body: Buffer.alloc(0) }) : reject(error)));
    req.end(body);
  });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('POST /v1/content', () => {
  it('answers a batch of hashes with their bytes one after the other, and refuses what it must', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'ct', ['server1'], '  applications: { app: { context: "/app", targets: ["cluster1"] } },\n');
    const dir = join(domain.dir, 'apps', 'app');
    await mkdir(dir, { recursive: true });
    // Many small files, an empty one and one past a read chunk: the framing holds for each.
    const files = [
      ...Array.from({ length: 300 }, (_, i) => Buffer.from(`file ${i}\n${'x'.repeat(i * 7)}`)),
      Buffer.alloc(0),
      randomBytes(3 * 1024 * 1024 + 17),
    ];
    await Promise.all(files.map((data, i) => writeFile(join(dir, `f${i}.bin`), data)));
    await startMaster(domain);
    const key = Buffer.from(await readKey(domain), 'hex');
    const ask = (hashes: unknown[], signedWith = key) => {
      const body = JSON.stringify({ hashes });
      return post(domain.masterPort, '/v1/content', signRequest(signedWith, 'POST', '/v1/content', 'server1', body), body);
    };

    // Asked in any order, a hash twice: exactly the concatenation of those files.
    const order = [files.length - 1, ...files.keys(), 5];
    const answer = await ask(order.map((i) => sha256(files[i]!)));
    expect(answer.status).toBe(200);
    expect(answer.body.equals(Buffer.concat(order.map((i) => files[i]!)))).toBe(true);

    const unknown = 'f'.repeat(64);
    const refused = await ask([sha256(files[0]!), unknown]);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ error: `no content with hash ${unknown} in generation 1`, exitCode: 2 });
    // Not a content request of our protocol at all: refused as such (exit 4).
    expect((await ask(['../config/security/domain.key'])).status).toBe(422);
    expect((await ask([])).status).toBe(422);
    const tooMany = await ask(Array.from({ length: MAX_CONTENT_HASHES + 1 }, () => sha256(files[0]!)));
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.toString()).toContain(`at most ${MAX_CONTENT_HASHES} files`);

    const unsigned = await post(domain.masterPort, '/v1/content', {}, JSON.stringify({ hashes: [sha256(files[0]!)] }));
    expect(unsigned.status).toBe(401);
    expect((await ask([sha256(files[0]!)], Buffer.alloc(32, 7))).status).toBe(401);

    const oversized = JSON.stringify({ hashes: Array.from({ length: 9000 }, () => sha256(files[0]!)) });
    expect((await post(domain.masterPort, '/v1/content', signRequest(key, 'POST', '/v1/content', 'server1', oversized), oversized)).status).toBe(413);
  });
});
