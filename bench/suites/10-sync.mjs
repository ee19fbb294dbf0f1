// Sync: cold transfer of a large application set (against cp -r), cold transfer of 10 000 small
// files (against cp -r), no-change resync of 10 000 files, one changed file. Driven through the managed server's own sync code against a real MASTER.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PeerClient, readDomainKey } from '@flotilla/core';
import { CacheStore, MasterSource, syncGeneration } from '@flotilla/managed';
import { cli, createDomain, onCleanup, startDetached, tempDir, timeMs } from '../lib.mjs';

export const title = 'sync';

const silent = { info() {}, warn() {}, error() {} };

async function withMaster(domain, work) {
  const pid = startDetached('master', ['start', domain.name, '--home', domain.home]);
  try {
    return await work();
  } finally {
    cli('master', ['stop', domain.name, '--home', domain.home]);
    void pid;
  }
}

async function syncer(domain, cacheDir) {
  const key = await readDomainKey(join(domain.dir, 'config', 'security', 'domain.key'));
  const client = new PeerClient({ address: '127.0.0.1', port: domain.masterPort }, key, 'server1');
  onCleanup(() => client.close());
  const cache = new CacheStore(cacheDir, silent);
  let current = await cache.open('server1').catch(() => undefined);
  return {
    async sync() {
      const result = await syncGeneration({ cache, source: new MasterSource(client), domain: domain.name, server: 'server1', current });
      current = result.generation;
      return result;
    },
  };
}

export async function run({ quick, log }) {
  const figures = [];
  const app = '  applications: { big: { context: "/big", targets: ["cluster1"] } },\n';

  // Cold sync of a large application set, against cp -r of the same files.
  {
    const home = tempDir('cold');
    const domain = await createDomain(home, 'cold', 1, app);
    const files = quick ? 16 : 64;
    const sizeMiB = 16;
    const dir = join(domain.dir, 'apps', 'big');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < files; i++) writeFileSync(join(dir, `blob-${i}.bin`), randomBytes(sizeMiB * 2 ** 20));
    const bytes = files * sizeMiB * 2 ** 20;
    log(`cold sync of ${files * sizeMiB} MiB in ${files} files`);
    const target = tempDir('cp');
    const cp = timeMs(() => execFileSync('cp', ['-r', dir, join(target, 'big')]));
    // Our sync makes every file durable before it counts; cp -r leaves its copy in the page cache.
    const cpSync = timeMs(() => execFileSync('sh', ['-c', `cp -r "${dir}" "${join(target, 'big2')}" && sync`]));
    const ours = await withMaster(domain, async () => {
      const s = await syncer(domain, join(tempDir('cache'), 'cache'));
      return timeMs(() => s.sync());
    });
    const ratio = cp.ms / ours.ms;
    figures.push({
      name: `cold sync ${files * sizeMiB} MiB (MiB/s)`,
      value: bytes / 2 ** 20 / (ours.ms / 1000),
      unit: 'MiB/s',
      peer: { name: 'cp -r', value: bytes / 2 ** 20 / (cp.ms / 1000) },
    });
    figures.push({ name: 'cp -r then sync (durable, like ours)', value: bytes / 2 ** 20 / (cpSync.ms / 1000), unit: 'MiB/s' });
    figures.push({ name: 'cold sync speed relative to cp -r', value: ratio, unit: 'x', target: '>= 0.7x', meets: ratio >= 0.7 });
    figures.push({ name: 'cold sync speed relative to cp -r then sync', value: cpSync.ms / ours.ms, unit: 'x' });
    rmSync(dir, { recursive: true, force: true });
  }

  // No-change resync and one changed file, with 10 000 files.
  {
    const home = tempDir('many');
    const domain = await createDomain(home, 'many', 1, app);
    const count = 10_000;
    for (let d = 0; d < 100; d++) {
      const dir = join(domain.dir, 'apps', 'big', `d${d}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < count / 100; f++) writeFileSync(join(dir, `f${f}.js`), `module.exports = ${d * 100 + f};\n`);
    }
    const cacheDir = join(tempDir('cache'), 'cache');
    const { noChange, cold } = await withMaster(domain, async () => {
      const s = await syncer(domain, cacheDir);
      const coldRun = await timeMs(() => s.sync());
      const runs = [];
      for (let i = 0; i < 10; i++) runs.push((await timeMs(() => s.sync())).ms);
      return { noChange: runs.sort((a, b) => a - b)[5], cold: coldRun.ms };
    });
    // The same files copied with cp -r: the kernel's cost of creating them, no network, no hashing.
    const cpSmall = timeMs(() => execFileSync('cp', ['-r', join(domain.dir, 'apps', 'big'), join(tempDir('cp-small'), 'big')]));
    figures.push({ name: `cold sync of ${count} small files`, value: cold, unit: 'ms', peer: { name: 'cp -r', value: cpSmall.ms } });
    figures.push({ name: `no-change resync, ${count} files (median of 10)`, value: noChange, unit: 'ms', target: '< 150 ms', meets: noChange < 150 });

    appendFileSync(join(domain.dir, 'apps', 'big', 'd7', 'f7.js'), '// changed\n');
    const oneChanged = await withMaster(domain, async () => {
      const s = await syncer(domain, cacheDir);
      return (await timeMs(() => s.sync())).ms;
    });
    figures.push({ name: `one changed file among ${count}`, value: oneChanged, unit: 'ms' });
  }
  return figures;
}
