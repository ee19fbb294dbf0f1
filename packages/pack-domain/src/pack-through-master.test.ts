import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import JSON5 from 'json5';
import { describe, expect, it } from 'vitest';
import { GENERATION_CONFIG_FILE, digestTree } from '@flotilla/core';
import { run, tempHome } from '@flotilla/test-support';
import { runOnTerminal } from '@flotilla/test-support/terminal';
import { createTestDomain, startMaster } from '@flotilla/test-support/domain';
import { startMasterWithEnv, zipEntry, zipManifest, zipTest } from '@flotilla/test-support/backup';

/** Every version the configuration file has had: its history and what it is now. */
async function configVersions(dir: string): Promise<string[]> {
  const history = join(dir, 'config', '.history');
  const old = await Promise.all((await readdir(history)).map((name) => readFile(join(history, name), 'utf8')));
  return [...old, await readFile(join(dir, 'config', 'domain.json5'), 'utf8')];
}

describe('pack-domain with the MASTER running', () => {
  it('packs exactly one generation per archive while configuration changes keep coming', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'cc', []);
    await mkdir(join(domain.dir, 'apps', 'hello', 'lib'), { recursive: true });
    await writeFile(join(domain.dir, 'apps', 'hello', 'index.js'), 'console.log("hi");\n');
    await writeFile(join(domain.dir, 'apps', 'hello', 'lib', 'data.json'), '{"n": 1}\n');
    // A pause before each file the MASTER packs: changes land while archives are being written.
    await startMasterWithEnv(domain, { FLOTILLA_TEST_PACK_PAUSE_MS: '40' });
    const h = ['--home', home];
    const out = await tempHome();

    const CHANGES = 12;
    let changing = true;
    // Change i sets backup.dir to "bk<i>" and makes generation 1 + i (the MASTER started at 1).
    const changer = (async () => {
      try {
        for (let i = 1; i <= CHANGES; i++) {
          const set = await run('master', ['config', 'set', 'cc', 'backup.dir', `bk${i}`, ...h]);
          expect(set.exitCode, set.stderr).toBe(0);
        }
      } finally {
        changing = false;
      }
    })();
    const archives: string[] = [];
    const packer = (async () => {
      while (changing || archives.length < 3) {
        const archive = join(out, `pack-${archives.length}.zip`);
        const packed = await run('pack-domain', ['cc', '-f', archive, ...h, '--json']);
        expect(packed.exitCode, packed.stderr).toBe(0);
        expect(JSON.parse(packed.stdout)).toMatchObject({ domain: 'cc', path: archive });
        archives.push(archive);
      }
    })();
    await Promise.all([changer, packer]);

    const versions = await configVersions(domain.dir);
    expect(versions).toHaveLength(CHANGES + 1);
    const generations = new Set<number>();
    for (const archive of archives) {
      const config = await zipEntry(archive, GENERATION_CONFIG_FILE);
      expect(versions, `${archive} holds one version of domain.json5`).toContain(config);
      const counter = JSON.parse(await zipEntry(archive, 'config/generation.json')) as { generation: number; digest: string };
      const manifest = await zipManifest(archive);
      expect(manifest.generation, archive).toBe(counter.generation);
      const dir = (JSON5.parse(config) as { backup?: { dir?: string } }).backup?.dir;
      expect(counter.generation, `${archive}: backup.dir ${dir}`).toBe(dir === undefined ? 1 : 1 + Number(dir.slice(2)));
      // The archive's configuration and apps/ are exactly the content that generation numbered.
      const inGeneration = <T extends { path: string }>(list: T[]) => list.filter((entry) => entry.path === GENERATION_CONFIG_FILE || entry.path.startsWith('apps/'));
      expect(digestTree({ files: inGeneration(manifest.files), links: inGeneration(manifest.links), dirs: inGeneration(manifest.dirs) }), archive).toBe(counter.digest);
      expect(manifest.files.map((file) => file.path)).toContain('apps/hello/lib/data.json');
      expect(manifest.tool.name).toBe('master');
      generations.add(counter.generation);
    }
    // The packs really ran while the generation moved on.
    expect(generations.size, [...generations].join(',')).toBeGreaterThan(1);
    expect((await zipTest(archives[0]!)).exitCode).toBe(0);
  });

  it('writes the default path and says so; offline, the generation is the one config/generation.json numbered, if the files are still it', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'gen', []);
    const master = await startMaster(domain);
    expect((await run('master', ['config', 'set', 'gen', 'backup.keep', '4', '--home', home])).exitCode).toBe(0);
    const archive = join(home, 'domains', 'gen_packed.zip');
    const online = await run('pack-domain', ['gen', '--home', home]);
    expect(online.exitCode, online.stderr).toBe(0);
    expect(online.stdout.trim()).toBe(`Packing the domain [gen] configuration completed successfully at the path [${archive}].`);
    expect(online.stderr).toBe('');
    expect((await zipManifest(archive)).generation).toBe(2);
    expect(master.stderr()).toContain('[MA-0093] backup of generation 2 written to');

    expect((await run('master', ['stop', 'gen', '--home', home])).exitCode).toBe(0);
    await master.child;
    const offline = await run('pack-domain', ['gen', '--home', home, '--json']);
    expect(offline.exitCode, offline.stderr).toBe(0);
    expect(JSON.parse(offline.stdout)).toMatchObject({ path: archive, generation: 2 });
    expect((await zipManifest(archive)).tool.name).toBe('pack-domain');

    // Edited by hand while the MASTER is down: no generation numbered these files yet.
    await writeFile(domain.configFile, `// edited by hand\n${await readFile(domain.configFile, 'utf8')}`);
    const edited = await run('pack-domain', ['gen', '--home', home, '--json']);
    expect(edited.exitCode, edited.stderr).toBe(0);
    expect(JSON.parse(edited.stdout).generation).toBeNull();
  });

  it('says on a terminal that the MASTER is packing, and for how long, while it writes the archive', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'tm', []);
    await mkdir(join(domain.dir, 'apps', 'hello'), { recursive: true });
    for (const name of ['a', 'b', 'c', 'd', 'e']) await writeFile(join(domain.dir, 'apps', 'hello', `${name}.js`), `// ${name}\n`);
    // The MASTER pauses after each file it packs: the pack lasts well past the line's first second.
    await startMasterWithEnv(domain, { FLOTILLA_TEST_PACK_PAUSE_MS: '400' });
    const terminal = runOnTerminal('pack-domain', ['tm', '--home', home]);
    await terminal.waitForText('Packing tm through its MASTER, which writes and verifies one generation: ');
    expect(await terminal.exited).toBe(0);
    expect(terminal.output()).toMatch(/Packing tm through its MASTER, which writes and verifies one generation: \d+ s/);
    expect(terminal.output()).toContain(`Packing the domain [tm] configuration completed successfully at the path [${join(home, 'domains', 'tm_packed.zip')}].`);
  });
});
