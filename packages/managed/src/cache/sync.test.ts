import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IntegrityError, PeerClient, PeerUnreachableError, masterIdentity, readDomainKey, type BodySink, type FileEntry, type Logger } from '@flotilla/core';
import { tempHome } from '@flotilla/test-support';
import { createTestDomain, startMaster } from '@flotilla/test-support/domain';
import { domainCa } from '@flotilla/test-support/management';
import { CacheStore } from './cache-store.js';
import { MasterSource } from './sources.js';
import { syncGeneration } from './sync.js';
import { receiveFiles, type Placement } from './verified-copy.js';

const silent: Logger = { info() {}, warn() {}, error() {} } as unknown as Logger;
const APP_CONFIG = '  applications: { app: { context: "/app", targets: ["cluster1"] } },\n';

function placementsFor(dir: string, contents: Buffer[]): Placement[] {
  return contents.map((data, i) => ({
    entry: { path: `f${i}`, size: data.length, mode: 0o640, mtime: 1_700_000_000_000, sha256: createHash('sha256').update(data).digest('hex') } satisfies FileEntry,
    target: join(dir, `f${i}`),
  }));
}

/**
 * The bytes as a network would deliver them: in pieces that straddle the files' boundaries, each in
 * the same read buffer, overwritten as soon as the sink is done with it.
 */
function transferOf(data: Buffer, piece = 1000) {
  return async (sink: BodySink) => {
    const readBuffer = Buffer.alloc(piece);
    for (let offset = 0; offset < data.length; offset += piece) {
      const length = data.copy(readBuffer, 0, offset, offset + piece);
      await sink.data(readBuffer.subarray(0, length));
      readBuffer.fill(0xee);
    }
  };
}

describe('receiving a batch of files', () => {
  it('splits the stream into its files, each verified, with its mode', async () => {
    const dir = await tempHome();
    // The large file is more blocks than a transfer has: each is written, then filled again.
    const contents = [Buffer.from('a'), Buffer.alloc(0), randomBytes(9 * 1024 * 1024 + 5), Buffer.from('last one\n')];
    const placements = placementsFor(dir, contents);
    // Modes the usual umask (022) would narrow at creation: each file still ends with its manifest's.
    placements[0]!.entry.mode = 0o666;
    placements[2]!.entry.mode = 0o666;
    await receiveFiles(transferOf(Buffer.concat(contents), 65_539), placements, 'the test', {});
    for (const [i, data] of contents.entries()) expect((await readFile(join(dir, `f${i}`))).equals(data)).toBe(true);
    const modes = await Promise.all(contents.map(async (_, i) => (await stat(join(dir, `f${i}`))).mode & 0o777));
    expect(modes).toEqual([0o666, 0o640, 0o666, 0o640]);
  });

  it('refuses a corrupted byte, a short stream and extra bytes', async () => {
    const contents = Array.from({ length: 50 }, (_, i) => Buffer.from(`file ${i} `.repeat(i + 1)));
    const good = Buffer.concat(contents);

    const corrupted = Buffer.from(good);
    corrupted[700] = corrupted[700]! ^ 1;
    const dir1 = await tempHome();
    await expect(receiveFiles(transferOf(corrupted), placementsFor(dir1, contents), 'the test', {})).rejects.toThrow(IntegrityError);

    const large = [Buffer.from('before'), randomBytes(6 * 1024 * 1024)];
    const corruptedLarge = Buffer.concat(large);
    const at = corruptedLarge.length - 10;
    corruptedLarge[at] = corruptedLarge[at]! ^ 1;
    const dirLarge = await tempHome();
    await expect(receiveFiles(transferOf(corruptedLarge, 65_536), placementsFor(dirLarge, large), 'the test', {})).rejects.toThrow('f1 from the test does not match its manifest');

    const dir2 = await tempHome();
    const short = receiveFiles(transferOf(good.subarray(0, good.length - 3)), placementsFor(dir2, contents), 'the test', {});
    await expect(short).rejects.toThrow(PeerUnreachableError);
    await expect(short).rejects.toThrow(/stopped sending f49 after/);

    const dir3 = await tempHome();
    const extra = receiveFiles(transferOf(Buffer.concat([good, Buffer.from('!')])), placementsFor(dir3, contents), 'the test', {});
    await expect(extra).rejects.toThrow(/sent more bytes than the 50 files asked for/);
  });

  it('reports a local write failure as such, not as the peer going away', async () => {
    const contents = [Buffer.from('one'), Buffer.from('two')];
    const placements = placementsFor(join(await tempHome(), 'no-such-dir'), contents);
    const error: unknown = await receiveFiles(transferOf(Buffer.concat(contents)), placements, 'the test', {}).catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: 'ENOENT' });
    expect(error).not.toBeInstanceOf(PeerUnreachableError);
  });
});

describe('a sync from the MASTER', () => {
  it('moves many small files in a few requests, and refuses a file whose bytes are not its manifest', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'sy', ['server1'], APP_CONFIG);
    const dir = join(domain.dir, 'apps', 'app');
    for (let d = 0; d < 10; d++) {
      await mkdir(join(dir, `d${d}`), { recursive: true });
      await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(dir, `d${d}`, `f${f}.js`), `module.exports = ${d * 100 + f};\n`)));
    }
    await startMaster(domain);
    const credentials = { key: await readDomainKey(domain.keyFile), sender: 'server1', trust: { ca: await domainCa(domain), identity: masterIdentity('sy') } };
    const client = new PeerClient({ address: '127.0.0.1', port: domain.masterPort }, credentials);
    const receive = client.receive.bind(client);
    let contentRequests = 0;
    client.receive = (...args) => {
      contentRequests += 1;
      return receive(...args);
    };
    try {
      const cache = new CacheStore(join(await tempHome(), 'cache'), silent);
      const sync = () => syncGeneration({ cache, source: new MasterSource(client), domain: 'sy', server: 'server1', current: undefined });
      const result = await sync();
      expect(result.fetchedFiles).toBe(1001);
      expect(contentRequests).toBe(2); // the configuration first, then every application file at once
      expect(await readFile(join(result.generation.root, 'apps', 'app', 'd7', 'f42.js'), 'utf8')).toBe('module.exports = 742;\n');
      expect(!result.unchanged && result.config.applications.app?.context).toBe('/app');

      // Same size, one byte changed behind the MASTER's back: the server sees it and keeps nothing.
      await writeFile(join(dir, 'd3', 'f5.js'), 'module.exports = 305;\n'.replace('305', '306'));
      const cacheDir = join(await tempHome(), 'cache');
      const failing = syncGeneration({ cache: new CacheStore(cacheDir, silent), source: new MasterSource(client), domain: 'sy', server: 'server1', current: undefined });
      await expect(failing).rejects.toThrow(IntegrityError);
      await expect(failing).rejects.toThrow('apps/app/d3/f5.js from MASTER at 127.0.0.1');
      expect((await readdir(cacheDir)).filter((name) => name.startsWith('staging-') || name.startsWith('gen-'))).toEqual([]);
    } finally {
      client.close();
    }
  });
});
