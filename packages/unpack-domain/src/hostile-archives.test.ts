import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, tempHome } from '@flotilla/test-support';
import { createDomainWithApps, snapshot, type FileState } from '@flotilla/test-support/domain-trees';
import { buildZip, manifestEntry, manifestFor, sha256, type BackupFileSpec, type RawEntry } from '@flotilla/test-support/zip-writer';

/**
 * Every archive here must be refused with exit 4 before anything is touched: the existing domain
 * it would replace (-delete, the most destructive option) stays byte for byte as it was.
 */
describe('unpack-domain refuses unsafe archives', () => {
  let home: string;
  let domainDir: string;
  let before: Record<string, FileState>;
  let files: BackupFileSpec[];
  let packed: Buffer;
  let work: string;

  beforeAll(async () => {
    // One home for the whole file: every case runs against the same existing domain.
    home = await tempHome('file');
    domainDir = await createDomainWithApps(home);
    const result = await run('pack-domain', ['domain1', '--home', home]);
    expect(result.exitCode, result.stderr).toBe(0);
    packed = await readFile(join(home, 'domains', 'domain1_packed.zip'));
    files = [
      { path: 'config/domain.json5', data: await readFile(join(domainDir, 'config', 'domain.json5')) },
      { path: 'config/security/domain.key', data: await readFile(join(domainDir, 'config', 'security', 'domain.key')), mode: 0o600 },
      { path: 'apps/hello/index.js', data: Buffer.from('console.log("hi");\n') },
    ];
    before = await snapshot(domainDir);
    work = join(home, 'archives');
    await mkdir(work);
  });

  const entries = (): RawEntry[] => files.map((file) => ({ name: file.path, data: file.data, unixMode: 0o100000 | (file.mode ?? 0o644) }));
  const valid = () => [manifestEntry(manifestFor('domain1', files)), ...entries()];

  async function expectRefused(name: string, archive: Buffer, ...messages: string[]): Promise<void> {
    const file = join(work, `${name}.zip`);
    await writeFile(file, archive);
    const result = await run('unpack-domain', ['-f', file, '--home', home, '-delete', '--yes']);
    expect(result.exitCode, result.stderr).toBe(4);
    expect(result.stderr).toContain(file);
    for (const message of messages) expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
    expect(await snapshot(domainDir)).toEqual(before);
    expect((await readdir(join(home, 'domains'))).sort()).toEqual(['domain1', 'domain1_packed.zip']);

    // --verify finds the same problem, and writes nothing either.
    const checked = await run('unpack-domain', ['-f', file, '--home', home, '--verify']);
    expect(checked.exitCode, checked.stderr).toBe(4);
    for (const message of messages) expect(checked.stderr).toContain(message);
    expect(checked.stdout).toBe('');
    expect(await snapshot(domainDir)).toEqual(before);
    expect((await readdir(join(home, 'domains'))).sort()).toEqual(['domain1', 'domain1_packed.zip']);
  }

  it('accepts the hand-built archive these cases start from (so each refusal below is for its own reason)', async () => {
    const target = await tempHome();
    const file = join(target, 'valid.zip');
    await writeFile(file, buildZip(valid()));
    const result = await run('unpack-domain', ['-f', file, '--home', target]);
    expect(result.exitCode, result.stderr).toBe(0);
  });

  it('a path with ../', async () => {
    const evil = { path: 'apps/../../evil.js', data: Buffer.from('x') };
    files.push(evil);
    try {
      await expectRefused('dotdot', buildZip(valid()), 'entry "apps/../../evil.js" contains ".."');
    } finally {
      files.pop();
    }
  });

  it('an absolute path', async () => {
    const archive = buildZip([...valid(), { name: '/tmp/evil.js', data: Buffer.from('x') }]);
    await expectRefused('absolute', archive, 'entry "/tmp/evil.js" is absolute');
  });

  it('a path outside config/ and apps/', async () => {
    const archive = buildZip([...valid(), { name: 'servers/server1/server.pid', data: Buffer.from('1') }]);
    await expectRefused('outside', archive, 'entry "servers/server1/server.pid" is outside config/ and apps/');
  });

  it('a symbolic link', async () => {
    const link = { path: 'apps/hello/passwd', data: Buffer.from('/etc/passwd'), mode: 0o777 };
    const archive = buildZip([
      manifestEntry(manifestFor('domain1', [...files, link])),
      ...entries(),
      { name: link.path, data: link.data, unixMode: 0o120777 },
    ]);
    await expectRefused('symlink', archive, 'entry "apps/hello/passwd" is a symbolic link');
  });

  it('a directory entry the manifest does not list', async () => {
    await expectRefused('directory', buildZip([...valid(), { name: 'apps/extra/', data: Buffer.alloc(0), unixMode: 0o040755 }]), 'entry "apps/extra/" is a directory entry not listed in the manifest');
  });

  it('a symbolic link that is absolute or leaves its application, even when the manifest lists it as one', async () => {
    for (const [name, link, says] of [
      ['absolute-link', { path: 'apps/hello/passwd', target: '/etc/passwd' }, 'is an absolute symbolic link'],
      ['leaving-link', { path: 'apps/hello/up', target: '../../config/security/domain.key' }, 'is a symbolic link (apps/hello/up -> "../../config/security/domain.key") that leaves the application apps/hello'],
    ] as const) {
      const archive = buildZip([
        manifestEntry(manifestFor('domain1', files, [link])),
        ...entries(),
        { name: link.path, data: Buffer.from(link.target), method: 0, unixMode: 0o120777 },
      ]);
      await expectRefused(name, archive, `"${link.path}" ${says}`);
    }
  });

  it('a symbolic link that is not in the manifest as a link with that target', async () => {
    const link = { path: 'apps/hello/bin', target: 'index.js' };
    const other = buildZip([manifestEntry(manifestFor('domain1', files, [link])), ...entries(), { name: link.path, data: Buffer.from('../../../etc'), method: 0, unixMode: 0o120777 }]);
    await expectRefused('other-target', other, 'entry "apps/hello/bin" is a symbolic link to "../../../etc", but the manifest declares "index.js"');
    const unlisted = buildZip([...valid(), { name: link.path, data: Buffer.from(link.target), method: 0, unixMode: 0o120777 }]);
    await expectRefused('unlisted-link', unlisted, 'entry "apps/hello/bin" is a symbolic link not listed in the manifest');
  });

  it('a duplicate entry', async () => {
    const archive = buildZip([...valid(), { name: 'apps/hello/index.js', data: Buffer.from('second copy\n') }]);
    await expectRefused('duplicate', archive, 'entry "apps/hello/index.js" appears twice');
  });

  it('an entry the manifest does not list', async () => {
    const archive = buildZip([...valid(), { name: 'apps/hello/extra.js', data: Buffer.from('x') }]);
    await expectRefused('unlisted', archive, 'entry "apps/hello/extra.js" is a regular file not listed in the manifest');
  });

  it('a file of the manifest missing from the archive', async () => {
    const manifest = manifestFor('domain1', [...files, { path: 'apps/hello/gone.js', data: Buffer.from('x') }]);
    await expectRefused('missing', buildZip([manifestEntry(manifest), ...entries()]), 'entry "apps/hello/gone.js" is listed in the manifest but missing from the archive');
  });

  it('content that differs from its hash (one changed byte)', async () => {
    const changed = entries().map((entry) => (entry.name === 'apps/hello/index.js' ? { ...entry, data: Buffer.from('console.log("hI");\n') } : entry));
    await expectRefused('changed', buildZip([manifestEntry(manifestFor('domain1', files)), ...changed]), 'entry "apps/hello/index.js" has SHA-256');
  });

  it('one changed byte in an archive pack-domain wrote', async () => {
    const flipped = Buffer.from(packed);
    // Past the manifest and configuration, inside the 256 KiB of incompressible application data.
    const at = Math.floor(flipped.length / 2);
    flipped[at] = flipped[at]! ^ 0xff;
    await expectRefused('flipped', flipped, 'entry "apps/hello/lib/blob.bin"');
  });

  it('a truncated archive', async () => {
    await expectRefused('truncated', packed.subarray(0, Math.floor(packed.length / 2)), 'not a zip archive');
  });

  it('a file that is not a zip at all', async () => {
    await expectRefused('not-a-zip', Buffer.from('just some text, long enough to look like a file\n'.repeat(20)), 'not a zip archive');
  });

  it('a zip bomb: an entry that decompresses to more bytes than declared, whatever its headers say', async () => {
    const bomb = Buffer.alloc(64 * 1024 * 1024);
    const declared = { path: 'apps/hello/bomb.bin', data: Buffer.alloc(1000) };
    const archive = buildZip([
      manifestEntry(manifestFor('domain1', [...files, declared])),
      ...entries(),
      { name: declared.path, data: bomb, declaredSize: 1000 },
    ]);
    expect(archive.length).toBeLessThan(256 * 1024);
    await expectRefused('bomb', archive, 'entry "apps/hello/bomb.bin" decompresses to more than the 1000 bytes the manifest declares');
  });

  it('a zip bomb in an entry large enough to be streamed rather than read whole', async () => {
    const bomb = Buffer.alloc(256 * 1024 * 1024);
    const declared = { path: 'apps/hello/big-bomb.bin', data: Buffer.alloc(3 * 1024 * 1024) };
    const archive = buildZip([
      manifestEntry(manifestFor('domain1', [...files, declared])),
      ...entries(),
      { name: declared.path, data: bomb, declaredSize: declared.data.length },
    ]);
    await expectRefused('big-bomb', archive, `entry "apps/hello/big-bomb.bin" decompresses to more than the ${3 * 1024 * 1024} bytes the manifest declares`);
  });

  it('a changed byte in a large entry, found while it streams', async () => {
    const large = { path: 'apps/hello/large.log', data: Buffer.from('a line of a large application log file\n'.repeat(80_000)) };
    const tampered = Buffer.from(large.data);
    tampered[2_000_000] = 0x41;
    const archive = buildZip([manifestEntry(manifestFor('domain1', [...files, large])), ...entries(), { name: large.path, data: tampered }]);
    await expectRefused('large-changed', archive, 'entry "apps/hello/large.log" has SHA-256');
  });

  it('a zip header that disagrees with the manifest about a size', async () => {
    const lying = entries().map((entry) => (entry.name === 'apps/hello/index.js' ? { ...entry, declaredSize: 5 } : entry));
    await expectRefused('header-size', buildZip([manifestEntry(manifestFor('domain1', files)), ...lying]), 'entry "apps/hello/index.js" is 5 bytes in the zip header');
  });

  it('no manifest, an unreadable manifest, an unsupported version', async () => {
    await expectRefused('no-manifest', buildZip(entries()), 'holds no flotilla-backup.json');
    await expectRefused('bad-json', buildZip([{ name: 'flotilla-backup.json', data: Buffer.from('{oops') }, ...entries()]), 'is not valid JSON');
    const future = { ...manifestFor('domain1', files), formatVersion: 3 };
    await expectRefused('future', buildZip([manifestEntry(future), ...entries()]), 'backup format version 3 is newer');
    const wrong = { ...manifestFor('domain1', files), files: [{ path: 'apps/x', size: -1, mode: 0o644, sha256: sha256(Buffer.alloc(0)) }] };
    await expectRefused('invalid-manifest', buildZip([manifestEntry(wrong), ...entries()]), 'is not a valid backup manifest');
  });

  it('accepts stored (uncompressed) entries as well as deflated ones', async () => {
    const stored = entries().map((entry) => ({ ...entry, method: 0 as const }));
    const target = await tempHome();
    const file = join(target, 'stored.zip');
    await writeFile(file, buildZip([manifestEntry(manifestFor('domain1', files)), ...stored]));
    const result = await run('unpack-domain', ['-f', file, '--home', target]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect((await stat(join(target, 'domains', 'domain1', 'apps', 'hello', 'index.js'))).size).toBe(files[2]!.data.length);
  });
});
