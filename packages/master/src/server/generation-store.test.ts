import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { domainLayout } from '@flotilla/core';
import { tempHome } from '@flotilla/test-support';
import { GenerationStore } from './generation-store.js';

async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

describe('GenerationStore.refresh', () => {
  it('rescans only the paths a change touched, and comes to the tree a full scan finds', async () => {
    const layout = domainLayout(await tempHome(), 'gs');
    await writeTree(layout.dir, { 'config/domain.json5': '{ name: "gs" }\n', 'apps/a/index.js': 'a1', 'apps/b/index.js': 'b1', 'apps/b/lib/x.js': 'x' });
    await mkdir(join(layout.dir, 'apps', 'b', 'empty'));
    const store = new GenerationStore(layout);
    expect(await store.refresh()).toBe(true);
    const first = store.manifest.generation;

    // A deploy of a: its directory replaced, the configuration rewritten; b as it was.
    await rm(join(layout.appsDir, 'a'), { recursive: true });
    await writeTree(layout.dir, { 'config/domain.json5': '{ name: "gs", applications: {} }\n', 'apps/a/index.js': 'a2', 'apps/a/z/new.js': 'new' });
    expect(await store.refresh(['config/domain.json5', 'apps/a'])).toBe(true);
    const touched = store.manifest;
    expect(touched.generation).toBe(first + 1);
    expect(touched.files.map((file) => file.path)).toEqual(['apps/a/index.js', 'apps/a/z/new.js', 'apps/b/index.js', 'apps/b/lib/x.js', 'config/domain.json5']);
    expect(touched.dirs.map((dir) => dir.path)).toEqual(['apps/b/empty']);
    expect(store.contentOf(touched.files[1]!.sha256)?.path).toBe(join(layout.dir, 'apps/a/z/new.js'));
    // The same tree walked whole: the same digest, so no new generation.
    expect(await new GenerationStore(layout).refresh()).toBe(false);

    // An undeploy of b: its entries leave with its directory.
    await rm(join(layout.appsDir, 'b'), { recursive: true });
    expect(await store.refresh(['config/domain.json5', 'apps/b'])).toBe(true);
    expect(store.manifest.files.map((file) => file.path)).toEqual(['apps/a/index.js', 'apps/a/z/new.js', 'config/domain.json5']);
    expect(store.manifest.dirs).toEqual([]);
    expect(await new GenerationStore(layout).refresh()).toBe(false);

    // A setting: no application walked; a file changed by hand in apps/ shows at the next full scan.
    const hashOfA = () => store.manifest.files.find((file) => file.path === 'apps/a/index.js')!.sha256;
    const before = hashOfA();
    await writeFile(join(layout.appsDir, 'a', 'index.js'), 'a3 by hand');
    await writeFile(layout.configFile, '{ name: "gs", logs: {} }\n');
    expect(await store.refresh(['config/domain.json5'])).toBe(true);
    expect(hashOfA()).toBe(before);
    expect(await store.refresh()).toBe(true);
    expect(hashOfA()).not.toBe(before);
  });
});
