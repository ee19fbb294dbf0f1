import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killPid, run, start, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, managedStatus, startManaged, startMaster, type TestDomain } from '@flotilla/test-support/domain';

const APP_FILES = 120;

async function writeApp(domain: TestDomain, version: number): Promise<void> {
  const dir = join(domain.dir, 'apps', 'big', 'lib');
  await mkdir(dir, { recursive: true });
  await Promise.all(
    Array.from({ length: APP_FILES }, (_, i) => writeFile(join(dir, `part-${i}.js`), `// v${version} part ${i}\n${'x'.repeat(8_000 + i * 37)}\n`)),
  );
}

const APP_CONFIG = '  applications: { big: { context: "/big", targets: ["cluster1"] } },\n';

/** Checks a cache as an operator's script would: the current generation is whole and verified. */
async function checkCache(cacheDir: string): Promise<number> {
  const { dir } = JSON.parse(await readFile(join(cacheDir, 'current.json'), 'utf8'));
  const manifest = JSON.parse(await readFile(join(cacheDir, dir, 'manifest.json'), 'utf8'));
  for (const file of manifest.files) {
    const data = await readFile(join(cacheDir, dir, 'files', file.path));
    expect(data.length, file.path).toBe(file.size);
    expect(createHash('sha256').update(data).digest('hex'), file.path).toBe(file.sha256);
  }
  expect(manifest.files.length).toBe(APP_FILES + 1);
  return manifest.generation;
}

/** A server's cache on a home of its own holding generations 1 and 2 (2 current), both servers stopped. */
async function cacheOfTwoGenerations(name: string): Promise<{ remoteHome: string; cacheDir: string; generations: string[] }> {
  const home = await tempHome();
  const remoteHome = await tempHome();
  const domain = await createTestDomain(home, name, ['server1'], APP_CONFIG);
  await writeApp(domain, 0);
  const master = await startMaster(domain);
  const server = await startManaged(remoteHome, name, 'server1', ['--master', `127.0.0.1:${domain.masterPort}`, '--key-file', domain.keyFile]);
  await waitFor('MANAGED', async () => (await managedStatus(remoteHome, name, 'server1')).mode === 'MANAGED');
  expect((await run('master', ['config', 'set', name, 'backup.keep', '3', '--home', home])).exitCode).toBe(0);
  await waitFor('generation 2', async () => (await managedStatus(remoteHome, name, 'server1')).generation === 2);
  killPid(server.pid);
  killPid(master.pid);
  await Promise.all([server.child, master.child]);

  const cacheDir = join(remoteHome, 'domains', name, 'servers', 'server1', 'cache');
  const generations = (await readdir(cacheDir)).filter((entry) => entry.startsWith('gen-')).sort();
  expect(generations).toHaveLength(2);
  return { remoteHome, cacheDir, generations };
}

describe('the local cache', () => {
  it('is whole, old or new, whenever the server is SIGKILLed during a sync', async () => {
    const home = await tempHome();
    const remoteHome = await tempHome();
    const domain = await createTestDomain(home, 'c1', ['server1'], APP_CONFIG);
    await writeApp(domain, 0);
    let master = await startMaster(domain);
    const args = ['--master', `127.0.0.1:${domain.masterPort}`, '--key-file', domain.keyFile];
    const first = await startManaged(remoteHome, 'c1', 'server1', args);
    killPid(first.pid);
    await first.child;
    const cacheDir = join(remoteHome, 'domains', 'c1', 'servers', 'server1', 'cache');
    let generation = await checkCache(cacheDir);

    for (let round = 1; round <= 6; round++) {
      // A new generation on the MASTER: every application file changes.
      killPid(master.pid);
      await master.child;
      await writeApp(domain, round);
      master = await startMaster(domain);

      const child = start('managed', ['start', 'c1', 'server1', '--home', remoteHome], {
        env: { FLOTILLA_TEST_FETCH_DELAY_MS: '10' },
      });
      // Kill at a random moment once the sync has begun.
      await waitFor('the sync to start', async () => (await readdir(cacheDir)).some((name) => name.startsWith('staging-')), 20_000, 5);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
      killPid(child.pid);
      await child;
      // The MASTER's generation is round + 1: the cache holds it, or the one it held before.
      const before = generation;
      generation = await checkCache(cacheDir);
      expect([before, round + 1]).toContain(generation);
    }

    // A start with the MASTER up completes the latest generation from whatever the kills left.
    const last = await startManaged(remoteHome, 'c1', 'server1');
    await waitFor('MANAGED', async () => (await managedStatus(remoteHome, 'c1', 'server1')).mode === 'MANAGED');
    const latest = await checkCache(cacheDir);
    expect(latest).toBe(7);
    const appFile = await readFile(join(cacheDir, JSON.parse(await readFile(join(cacheDir, 'current.json'), 'utf8')).dir, 'files', 'apps', 'big', 'lib', 'part-0.js'), 'utf8');
    expect(appFile.startsWith('// v6 part 0')).toBe(true);
    killPid(last.pid);
  });

  it('falls back to the previous complete generation when the current one is corrupt, and refuses when none is left', async () => {
    const { remoteHome, cacheDir, generations } = await cacheOfTwoGenerations('c2');
    // Corrupt the current generation's configuration (not shared with the older one).
    await appendFile(join(cacheDir, generations[1]!, 'files', 'config', 'domain.json5'), '// tampered\n');

    const fallback = await startManaged(remoteHome, 'c2', 'server1');
    expect(fallback.stderr()).toContain('[MS-0021]');
    expect(await managedStatus(remoteHome, 'c2', 'server1')).toMatchObject({ generation: 1, mode: 'INDEPENDENT' });
    killPid(fallback.pid);
    await fallback.child;

    // Now the only generation left is corrupt too: the server refuses to serve it.
    // Unchanged files are hard links shared by both generations: one flipped byte spoils both.
    const part = join(cacheDir, generations[0]!, 'files', 'apps', 'big', 'lib', 'part-3.js');
    const bytes = await readFile(part);
    bytes[0] = bytes[0]! ^ 1;
    await writeFile(part, bytes);
    const refused = await run('managed', ['start', 'c2', 'server1', '--home', remoteHome]);
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toContain('cache of server1');
    expect(refused.stderr).toContain('is corrupt');
    expect(refused.stderr).toContain('does not match its SHA-256');
  });

  it('starts from the newest complete generation when current.json is garbage, and says so', async () => {
    const { remoteHome, cacheDir } = await cacheOfTwoGenerations('c3');
    await writeFile(join(cacheDir, 'current.json'), 'garbage{');

    const server = await startManaged(remoteHome, 'c3', 'server1');
    try {
      expect(server.stderr()).toContain('[MS-0021]');
      expect(server.stderr()).toContain('current.json');
      expect(await managedStatus(remoteHome, 'c3', 'server1')).toMatchObject({ generation: 2, mode: 'INDEPENDENT' });
    } finally {
      killPid(server.pid);
      await server.child;
    }
    // The pointer was rewritten to the generation in use.
    expect(JSON.parse(await readFile(join(cacheDir, 'current.json'), 'utf8')).dir).toMatch(/^gen-2-/);

    // A garbage pointer and no generation at all is a corrupt cache, not an absent one.
    for (const name of await readdir(cacheDir)) if (name.startsWith('gen-')) await rm(join(cacheDir, name), { recursive: true });
    await writeFile(join(cacheDir, 'current.json'), 'garbage{');
    const refused = await run('managed', ['start', 'c3', 'server1', '--home', remoteHome]);
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toContain('current.json is not a pointer to a generation');
  });
});
