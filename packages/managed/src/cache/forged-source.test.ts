import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, ProtocolError, digestTree, type FileEntry, type LinkEntry, type Logger } from '@flotilla/core';
import { tempHome } from '@flotilla/test-support';
import { CacheStore } from './cache-store.js';
import type { ContentSource } from './sources.js';
import { syncGeneration } from './sync.js';
import type { Placement } from './verified-copy.js';

const silent: Logger = { info() {}, warn() {}, error() {} } as unknown as Logger;

const CONFIG = `{
  name: "fs",
  master: { name: "adminServer", node: "node1", address: "127.0.0.1", port: 19736 },
  nodes: { node1: { host: "127.0.0.1" } },
  servers: { server1: { node: "node1", address: "127.0.0.1", port: 19746, http: 18088 } },
  applications: { hello: { context: "/hello", targets: ["server1"] } },
}
`;

function entry(path: string, data: Buffer): FileEntry {
  return { path, size: data.length, mode: 0o644, mtime: 1_700_000_000_000, sha256: createHash('sha256').update(data).digest('hex') };
}

/**
 * A source that says whatever the test wants and writes whatever bytes it is asked for wherever
 * the sync tells it: the sync alone must keep a hostile manifest from writing anything.
 */
class ForgedSource implements ContentSource {
  readonly description = 'the forged source';
  private readonly bytes = new Map<string, Buffer>();

  constructor(
    private readonly answer: unknown,
    contents: Buffer[],
  ) {
    for (const data of contents) this.bytes.set(entry('', data).sha256, data);
  }

  async manifest(): Promise<unknown> {
    return this.answer;
  }

  async fetch(placements: readonly Placement[]): Promise<void> {
    for (const { entry: file, target } of placements) {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, this.bytes.get(file.sha256)!);
    }
  }
}

/** Every path under `root` with its content: what a refused sync must leave exactly as it was. */
async function tree(root: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const item of await readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(item.parentPath, item.name);
    found[relative(root, path)] = item.isFile() ? await readFile(path, 'utf8') : '(dir)';
  }
  return found;
}

describe('a sync from a forged source', () => {
  it('refuses unsafe paths and another protocol version before writing anything, and keeps the previous cache', async () => {
    const home = await tempHome();
    const cache = new CacheStore(join(home, 'domains', 'fs', 'servers', 'server1', 'cache'), silent);
    const config = Buffer.from(CONFIG);
    const app = Buffer.from('module.exports = "good";\n');
    const goodFiles = [entry('config/domain.json5', config), entry('apps/hello/index.js', app)];
    const good = { protocol: PROTOCOL_VERSION, domain: 'fs', generation: 1, digest: digestTree({ files: goodFiles, links: [], dirs: [] }), files: goodFiles, links: [] as LinkEntry[], dirs: [] };
    const first = await syncGeneration({ cache, source: new ForgedSource(good, [config, app]), domain: 'fs', server: 'server1', current: undefined });
    expect(first.unchanged).toBe(false);

    const payload = Buffer.from('escaped\n');
    const forged = (path: string, extra: FileEntry[] = []) => {
      const files = [...goodFiles, ...extra, entry(path, payload)];
      return { ...good, generation: 2, digest: digestTree({ files, links: [], dirs: [] }), files };
    };
    const linked = (link: LinkEntry, extra: FileEntry[] = []) => {
      const files = [...goodFiles, ...extra];
      return { ...good, generation: 2, digest: digestTree({ files, links: [link], dirs: [] }), files, links: [link] };
    };
    const cases: Array<[string, unknown, string]> = [
      ['..', forged('apps/hello/../../../../../../../escaped.txt'), 'contains ".." and would leave the cache'],
      ['absolute', forged(join(home, 'escaped.txt')), 'is absolute'],
      ['empty segment', forged('apps/hello//escaped.txt'), 'has an empty or "." segment'],
      ['over-long', forged(`apps/hello/${'x/'.repeat(600)}escaped.txt`), 'is longer than 1024 bytes'],
      ['duplicate', forged('apps/hello/escaped.txt', [entry('apps/hello/escaped.txt', payload)]), 'apps/hello/escaped.txt is listed twice'],
      ['absolute link', linked({ path: 'apps/hello/key', target: '/etc/passwd' }), 'is an absolute symbolic link'],
      ['link leaving the application', linked({ path: 'apps/hello/lib/up', target: '../../other/index.js' }), 'leaves the application apps/hello'],
      ['link with ".." further on', linked({ path: 'apps/hello/lib/up', target: '../x/../../y' }), 'has an empty, "." or ".." segment after its leading ".."'],
      ['link outside an application', linked({ path: 'apps/key', target: 'hello/index.js' }), 'is a symbolic link outside apps/<application>/'],
      ['file below a link', linked({ path: 'apps/hello/lib', target: 'x' }, [entry('apps/hello/lib/escaped.txt', payload)]), 'lies below the symbolic link apps/hello/lib'],
      ['other protocol', { ...forged('apps/hello/escaped.txt'), protocol: PROTOCOL_VERSION + 1 }, `speaks protocol version ${PROTOCOL_VERSION + 1}`],
    ];
    const before = await tree(home);
    for (const [name, answer, says] of cases) {
      const sync = syncGeneration({ cache, source: new ForgedSource(answer, [config, app, payload]), domain: 'fs', server: 'server1', current: first.generation });
      await expect(sync, name).rejects.toThrow(ProtocolError);
      await expect(sync, name).rejects.toThrow('the generation manifest from the forged source');
      await expect(sync, name).rejects.toThrow(says);
      expect(await tree(home), name).toEqual(before);
    }

    // The previous generation is still the one a restart opens and serves.
    const reopened = await new CacheStore(cache.dir, silent).open('server1');
    expect(reopened?.dir).toBe(first.generation.dir);
    expect(await readFile(join(reopened!.root, 'apps', 'hello', 'index.js'), 'utf8')).toBe('module.exports = "good";\n');
  });
});
