/**
 * A full disk and a permission through the real binaries: each names the path and what to do,
 * exits 1 (the operation failed, not the input), and a server whose next generation cannot fit
 * serves its intact cache INDEPENDENT. Disks are small tmpfs mounts (the tests run as root).
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { binaryPath, onCleanup, repoRoot, run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, managedStatus, startManaged, startMaster } from '@flotilla/test-support/domain';

const hello = join(repoRoot, 'examples', 'hello');
const MiB = 1024 * 1024;

/** A directory on its own tmpfs of `bytes`, unmounted and removed after the test, pass or fail. */
async function smallDisk(bytes: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  onCleanup(async () => {
    // Lazy: a process the test started may still be ending; the mount goes once it has.
    execFileSync('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** The hello example with `bytes` of incompressible data beside it. */
async function bigApp(home: string, bytes: number): Promise<string> {
  const dir = join(home, 'big-app');
  await cp(hello, dir, { recursive: true });
  await writeFile(join(dir, 'data.bin'), execFileSync('head', ['-c', String(bytes), '/dev/urandom'], { maxBuffer: bytes + MiB }));
  return dir;
}

describe('storage errors', () => {
  it('master deploy on a full disk exits 1, naming the directory and what to do', async () => {
    const home = await smallDisk(2 * MiB);
    const domain = await createTestDomain(home, 'full1', ['server1']);
    await startMaster(domain);
    const app = await bigApp(await tempHome(), 3 * MiB);
    const deployed = await run('master', ['deploy', 'full1', app, '--name', 'big', '--context', '/big', '--target', 'server1', '--home', home]);
    expect(deployed.exitCode, deployed.stderr).toBe(1);
    expect(deployed.stderr).not.toContain('unexpected error');
    expect(deployed.stderr).toContain(`no space left on the device that holds ${join(domain.dir, 'apps')}`);
    expect(deployed.stderr).toContain('free space there');
  });

  it('a managed server whose next generation cannot fit starts INDEPENDENT from its intact cache, and says why', async () => {
    const masterHome = await tempHome();
    const domain = await createTestDomain(masterHome, 'full2', ['server1']);
    await startMaster(domain);
    const h = ['--home', masterHome];
    expect((await run('master', ['deploy', 'full2', hello, '--name', 'hello', '--context', '/hello', '--target', 'server1', ...h])).exitCode).toBe(0);

    // The server on a machine of its own, whose disk holds the cache of hello but not the next generation.
    const serverHome = await smallDisk(2 * MiB);
    const remote = ['--master', `127.0.0.1:${domain.masterPort}`, '--key-file', domain.keyFile];
    const first = await startManaged(serverHome, 'full2', 'server1', remote);
    const cached = (await managedStatus(serverHome, 'full2', 'server1')).generation;
    expect((await run('managed', ['stop', 'full2', 'server1', '--home', serverHome])).exitCode).toBe(0);
    await first.child.catch(() => {});

    const app = await bigApp(masterHome, 3 * MiB);
    const deployed = await run('master', ['deploy', 'full2', app, '--name', 'big', '--context', '/big', '--target', 'server1', ...h]);
    expect(deployed.exitCode, deployed.stderr).toBe(0);

    const again = await startManaged(serverHome, 'full2', 'server1', remote);
    const status = await managedStatus(serverHome, 'full2', 'server1');
    expect(status).toMatchObject({ mode: 'INDEPENDENT', generation: cached, status: 'RUNNING' });
    const said = again.stderr();
    expect(said).toContain('[MS-0054]');
    expect(said).toContain(`no space left on the device that holds ${join(serverHome, 'domains', 'full2', 'servers', 'server1', 'cache')}`);
    const answer = await waitFor('hello served from the cache', async () => {
      const response = await fetch(`http://127.0.0.1:${domain.servers.server1!.http}/hello/`);
      return response.status === 200 && response;
    });
    expect(answer.status).toBe(200);

    // Room made on the disk: the server synchronises by itself and is MANAGED again, big included.
    execFileSync('mount', ['-o', `remount,size=${8 * MiB}`, serverHome]);
    await waitFor('MANAGED at the new generation', async () => {
      const now = await managedStatus(serverHome, 'full2', 'server1');
      return now.mode === 'MANAGED' && now.generation > cached;
    }, 30_000);
    await waitFor('big served', async () => (await fetch(`http://127.0.0.1:${domain.servers.server1!.http}/big/`)).status === 200, 30_000);
  });

  it('pack-domain and unpack-domain on a full disk exit 1, naming where, and leave nothing behind', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'full3', []);
    await cp(await bigApp(home, 3 * MiB), join(domain.dir, 'apps', 'big'), { recursive: true });
    const out = await smallDisk(MiB);
    const target = join(out, 'full3.zip');
    const packed = await run('pack-domain', ['full3', '-f', target, '--home', home]);
    expect(packed.exitCode, packed.stderr).toBe(1);
    expect(packed.stderr).toContain(`no space left on the device that holds ${target}`);
    expect(await readdir(out)).toEqual([]);

    const archive = join(home, 'full3.zip');
    expect((await run('pack-domain', ['full3', '-f', archive, '--home', home])).exitCode).toBe(0);
    const small = await smallDisk(MiB);
    const unpacked = await run('unpack-domain', ['-f', archive, '--yes', '--home', small]);
    expect(unpacked.exitCode, unpacked.stderr).toBe(1);
    expect(unpacked.stderr).toContain(`no space left on the device that holds ${join(small, 'domains')}`);
    expect(await readdir(join(small, 'domains'))).toEqual([]);
  });

  it('a permission error names the path and exits 1', async () => {
    const parent = await tempHome();
    const home = join(parent, 'home');
    await mkdir(home, { mode: 0o755 }); // root's: the user below may not write in it
    // As nobody (root is never refused a permission): the binary as that user runs it.
    const created = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, binaryPath('master'), 'create-domain', 'denied', '--home', home], {
      reject: false,
      stdin: 'ignore',
      timeout: 60_000,
      env: { FLOTILLA_HOME: '' },
    });
    expect(created.exitCode, created.stderr).toBe(1);
    expect(created.stderr).not.toContain('unexpected error');
    expect(created.stderr).toContain(`permission denied on ${join(home, 'domains')}`);
    expect(created.stderr).toContain('run as the user that owns the Flotilla home');
  });
});
