import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { run, tempHome } from '@flotilla/test-support';
import { createTestDomain } from '@flotilla/test-support/domain';
import { SSH_LIKE_WRAPPER, bootWithBackup, withNodes, writeScript } from '@flotilla/test-support/backup';

interface Listed {
  file: string;
  where: string;
  node: string | null;
  time: string;
  generation: number | null;
  bytes: number;
  encrypted: boolean;
  verified: boolean | null;
  problem?: string;
}

async function listBackups(home: string, domain: string, ...extra: string[]) {
  const listed = await run('master', ['backups', domain, '--home', home, '--json', ...extra]);
  return { ...listed, list: listed.stdout ? (JSON.parse(listed.stdout) as { domain: string; backups: Listed[]; unreachable: string[] }) : undefined };
}

/** Flips one byte inside the stored content of `marker` (incompressible data is kept verbatim): the zip stays readable, its content is wrong. */
async function corruptContent(archive: string, marker: Buffer): Promise<void> {
  const bytes = await readFile(archive);
  const at = bytes.indexOf(marker);
  expect(at).toBeGreaterThan(0);
  bytes[at + 8] = bytes[at + 8]! ^ 0xff;
  await writeFile(archive, bytes);
}

describe('master backups', () => {
  it('lists two boot backups and a pack-domain archive with their facts; --verify finds a corrupted one (exit 4)', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'lb', ['server1'], '  backup: { onBoot: true, keep: 5 },\n');
    const data = randomBytes(64 * 1024);
    await mkdir(join(domain.dir, 'apps', 'hello'), { recursive: true });
    await writeFile(join(domain.dir, 'apps', 'hello', 'data.bin'), data);

    const first = await bootWithBackup(domain);
    const second = await bootWithBackup(domain, first.record);
    const packed = await run('pack-domain', ['lb', '--home', home]);
    expect(packed.exitCode, packed.stderr).toBe(0);

    const { exitCode, stderr, list } = await listBackups(home, 'lb');
    expect(exitCode, stderr).toBe(0);
    const backupsDir = join(domain.dir, 'backups');
    const packedZip = join(home, 'domains', 'lb_packed.zip');
    // Oldest first: the two boots, then the pack.
    expect(list!.backups.map((backup) => backup.where)).toEqual([join(backupsDir, first.record.file!), join(backupsDir, second.record.file!), packedZip]);
    for (const backup of list!.backups) {
      expect(backup).toMatchObject({ node: null, generation: 1, encrypted: false, verified: null });
      expect(backup.bytes).toBeGreaterThan(data.length);
    }
    // Each is listed at the time it was made: its manifest's, taken as packing began, a moment
    // after the boot record's (on a busy machine, in the next second or later).
    for (const [listed, record] of [[list!.backups[0]!, first.record], [list!.backups[1]!, second.record]] as const) {
      const after = Date.parse(listed.time) - Date.parse(record.time);
      expect(after, `${listed.time} listed, ${record.time} recorded`).toBeGreaterThanOrEqual(-1000);
      expect(after, `${listed.time} listed, ${record.time} recorded`).toBeLessThan(30_000);
    }

    const human = await run('master', ['backups', 'lb', '--home', home]);
    expect(human.exitCode).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(/^time \(UTC\)\s+generation\s+size\s+encrypted\s+check\s+where$/);
    expect(human.stdout).toContain(packedZip);

    const verified = await listBackups(home, 'lb', '--verify');
    expect(verified.exitCode, verified.stderr).toBe(0);
    expect(verified.list!.backups.map((backup) => backup.verified)).toEqual([true, true, true]);

    await corruptContent(join(backupsDir, first.record.file!), data.subarray(30_000, 30_032));
    // Listing reads structure and manifest only; the flipped byte is found by the full check.
    expect((await listBackups(home, 'lb')).exitCode).toBe(0);
    const caught = await listBackups(home, 'lb', '--verify');
    expect(caught.exitCode, caught.stderr).toBe(4);
    expect(caught.list!.backups.map((backup) => backup.verified)).toEqual([false, true, true]);
    expect(caught.list!.backups[0]!.problem).toContain(join(backupsDir, first.record.file!));
    expect(caught.stderr).toContain(`1 of the 3 backups of lb failed their checks`);
    expect(caught.stderr).toContain('apps/hello/data.bin');
  });

  it('lists the copies on the backup node through its exec, checks them with --verify, and lists encrypted ones as not verified without an identity', async () => {
    const home = await tempHome();
    const scripts = await tempHome();
    const remote = join(scripts, 'remote', 'backups');
    const keyFile = join(scripts, 'backup-key.txt');
    await execa('age-keygen', ['-o', keyFile]);
    const recipient = (await execa('age-keygen', ['-y', keyFile])).stdout.trim();
    const domain = await createTestDomain(home, 'nb', []);
    const wrapper = await writeScript(scripts, 'wrapper', SSH_LIKE_WRAPPER);
    await withNodes(domain, `node2: { host: "10.9.8.7", exec: "${wrapper} {host}" }, `, `{ onBoot: true, node: "node2", dir: "${remote}", keep: 3, encryptTo: ["${recipient}"] }`);
    const { record } = await bootWithBackup(domain);
    expect(record).toMatchObject({ outcome: 'written', place: 'node' });

    const listed = await listBackups(home, 'nb');
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.list!.backups).toEqual([
      expect.objectContaining({ file: record.file, where: `node2:${join(remote, record.file!)}`, node: 'node2', generation: 1, encrypted: true, verified: null }),
    ]);

    const noIdentity = await run('master', ['backups', 'nb', '--home', home, '--verify']);
    expect(noIdentity.exitCode, noIdentity.stderr).toBe(0);
    expect(noIdentity.stdout).toContain('encrypted, not verified');

    const checked = await listBackups(home, 'nb', '--verify', '--identity', keyFile);
    expect(checked.exitCode, checked.stderr).toBe(0);
    expect(checked.list!.backups[0]).toMatchObject({ verified: true, generation: 1, encrypted: true });

    await writeScript(scripts, 'wrapper', 'echo "ssh: connect to host $1 port 22: No route to host" >&2\nexit 1');
    const down = await listBackups(home, 'nb');
    expect(down.exitCode).toBe(3);
    expect(down.list!.unreachable[0]).toContain('node node2');
    expect(down.stderr).toContain('No route to host');
  });
});
