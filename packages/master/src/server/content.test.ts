import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_CONTENT_HASHES } from '@flotilla/core';
import { tempHome } from '@flotilla/test-support';
import { createTestDomain, readKey, startMaster } from '@flotilla/test-support/domain';
import { domainCa, sendRaw, signedFor } from '@flotilla/test-support/management';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('POST /v2/content', () => {
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
    const ca = await domainCa(domain);
    const post = (headers: Record<string, string>, body: string) => sendRaw(domain.masterPort, { method: 'POST', path: '/v2/content', headers, body, ca });
    const ask = (hashes: unknown[], signedWith = key) => {
      const body = JSON.stringify({ hashes });
      return post(signedFor(signedWith, 'ct', 'master', 'POST', '/v2/content', body, 'server1'), body);
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

    const unsigned = await post({}, JSON.stringify({ hashes: [sha256(files[0]!)] }));
    expect(unsigned.status).toBe(401);
    expect((await ask([sha256(files[0]!)], Buffer.alloc(32, 7))).status).toBe(401);

    const oversized = JSON.stringify({ hashes: Array.from({ length: 9000 }, () => sha256(files[0]!)) });
    // The MASTER answers 413 without reading the rest of an oversized body, then closes (status 0 if first).
    expect([0, 413]).toContain((await post(signedFor(key, 'ct', 'master', 'POST', '/v2/content', oversized, 'server1'), oversized)).status);
  });
});
