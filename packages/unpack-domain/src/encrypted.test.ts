import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { run, tempHome } from '@flotilla/test-support';
import { createDomainWithApps, filesUnder, snapshot } from '@flotilla/test-support/domain-trees';

/** An age identity made by the test with Debian's age-keygen: the file and its public key. */
async function identity(dir: string, name: string): Promise<{ file: string; recipient: string }> {
  const file = join(dir, `${name}.txt`);
  await execa('age-keygen', ['-o', file]);
  const recipient = (await execa('age-keygen', ['-y', file])).stdout.trim();
  return { file, recipient };
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

describe('encrypted backups (age)', () => {
  it('pack-domain --recipient writes .zip.age that the age tool decrypts, and unpack-domain --identity restores it; a wrong identity is exit 4, nothing written', async () => {
    const home = await tempHome();
    const dir = await createDomainWithApps(home);
    const keys = await tempHome();
    const mine = await identity(keys, 'mine');
    const other = await identity(keys, 'other');

    const packed = await run('pack-domain', ['domain1', '--home', home, '--recipient', mine.recipient, '--recipient', other.recipient]);
    expect(packed.exitCode, packed.stderr).toBe(0);
    const archive = join(home, 'domains', 'domain1_packed.zip.age');
    expect(packed.stdout).toContain(`[${archive}]`);
    expect((await stat(archive)).mode & 0o777).toBe(0o600);
    expect((await readFile(archive)).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    // Nothing in clear is left beside it.
    expect((await entries(join(home, 'domains'))).filter((name) => name.startsWith('.'))).toEqual([]);

    // The standard tool reads it: a plain backup inside.
    const plain = join(keys, 'plain.zip');
    await execa('age', ['-d', '-i', mine.file, '-o', plain, archive]);
    expect((await execa('unzip', ['-t', plain], { reject: false })).exitCode).toBe(0);

    // --verify checks it through the encryption, writing nothing in the home.
    const verified = await run('unpack-domain', ['-f', archive, '--identity', mine.file, '--verify', '--json', '--home', await tempHome()]);
    expect(verified.exitCode, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ domain: 'domain1', encrypted: true, sound: true });
    const plainVerified = await run('unpack-domain', ['-f', plain, '--verify', '--home', home]);
    expect(plainVerified.exitCode, plainVerified.stderr).toBe(0);
    expect(plainVerified.stdout).toMatch(/is a sound backup of domain domain1, generation (\d+|\(unknown\)), \d+ files: every check of a restore passed$/);

    const stranger = await identity(keys, 'stranger');
    const target = await tempHome();
    const refused = await run('unpack-domain', ['-f', archive, '--identity', stranger.file, '--home', target]);
    expect(refused.exitCode, refused.stderr).toBe(4);
    expect(refused.stderr).toContain('cannot be decrypted with');
    expect(refused.stderr).toContain('nothing was changed');
    expect(await entries(join(target, 'domains'))).toEqual([]);

    const missing = await run('unpack-domain', ['-f', archive, '--home', target]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('--identity FILE');

    // Either recipient's identity restores it, byte for byte.
    const restored = await run('unpack-domain', ['-f', archive, '--identity', other.file, '--home', target]);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(filesUnder(await snapshot(join(target, 'domains', 'domain1')), 'config', 'apps')).toEqual(filesUnder(await snapshot(dir), 'config', 'apps'));
    expect(await entries(join(target, 'domains'))).toEqual(['domain1']);
  });

  it('refuses a recipient that is not an age public key (exit 2), writing nothing', async () => {
    const home = await tempHome();
    await createDomainWithApps(home);
    const refused = await run('pack-domain', ['domain1', '--home', home, '--recipient', 'age1notakey']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--recipient age1notakey: not an age public key');
    expect((await entries(join(home, 'domains'))).sort()).toEqual(['domain1']);
  });
});
