import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, startManaged, startMaster } from '@flotilla/test-support/domain';
import { installFixtureApp } from '@flotilla/test-support/apps';

const hello = join(repoRoot, 'examples', 'hello');

async function answer(port: number, path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await response.text();
  return { status: response.status, body: response.status === 200 ? JSON.parse(text) : text };
}

/** A zip with the given entries, written with Python's zipfile (any name, links included). */
function makeZip(path: string, entries: Array<{ name: string; text: string; link?: boolean }>): void {
  const script = `
import json, sys, zipfile
entries = json.loads(sys.argv[2])
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for e in entries:
        info = zipfile.ZipInfo(e['name'])
        info.create_system = 3
        info.external_attr = ((0o120777 if e.get('link') else 0o100644) << 16)
        z.writestr(info, e['text'])
`;
  execFileSync('python3', ['-c', script, path, JSON.stringify(entries)]);
}

describe('master deploy, undeploy and apps', () => {
  it('deploys a directory to a cluster and a zip to one server, lists them, and undeploys', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'dp1', ['server1', 'server2']);
    await startMaster(domain);
    for (const server of ['server1', 'server2']) await startManaged(home, 'dp1', server);
    const h = ['--home', home];

    const deployed = await run('master', ['deploy', 'dp1', hello, '--name', 'hello', '--context', '/hello', '--target', 'cluster1', ...h, '--json']);
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    expect(JSON.parse(deployed.stdout)).toMatchObject({ generation: 2, change: { op: 'deploy', name: 'hello', targets: ['cluster1'] } });
    for (const server of ['server1', 'server2'] as const) {
      await waitFor(`hello on ${server}`, async () => (await answer(domain.servers[server]!.http, '/hello/')).body.server === server);
    }

    const zip = join(home, 'solo.zip');
    execFileSync('zip', ['-qr', zip, 'hello'], { cwd: join(repoRoot, 'examples') }); // a zip of the directory itself
    expect((await run('master', ['deploy', 'dp1', zip, '--name', 'solo', '--context', '/solo', '--target', 'server2', ...h])).exitCode).toBe(0);
    await waitFor('solo on server2', async () => (await answer(domain.servers.server2!.http, '/solo/')).status === 200);
    expect((await answer(domain.servers.server1!.http, '/solo/')).status).toBe(404);

    const apps = JSON.parse((await run('master', ['apps', 'dp1', ...h, '--json'])).stdout);
    expect(apps.apps).toEqual([
      { name: 'hello', context: '/hello', targets: ['cluster1'], servers: ['server1', 'server2'] },
      { name: 'solo', context: '/solo', targets: ['server2'], servers: ['server2'] },
    ]);

    expect((await run('master', ['undeploy', 'dp1', 'hello', ...h])).exitCode).toBe(0);
    await waitFor('hello gone from server1', async () => (await answer(domain.servers.server1!.http, '/hello/')).status === 404);
    expect((await readdir(join(domain.dir, 'apps'))).sort()).toEqual(['solo']);
  });

  it('deploys what npm ci leaves, .bin links, empty directories and times kept, and it answers on two servers', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'dpn', ['server1', 'server2']);
    const source = join(home, 'express');
    await installFixtureApp('express-hello', source);
    const bins = await readdir(join(source, 'node_modules', '.bin'));
    expect(bins.length).toBeGreaterThan(0);
    const bin = join('node_modules', '.bin', bins[0]!);
    await mkdir(join(source, 'uploads'));
    await startMaster(domain);
    for (const server of ['server1', 'server2']) await startManaged(home, 'dpn', server);
    const deployed = await run('master', ['deploy', 'dpn', source, '--name', 'express', '--context', '/express', '--target', 'cluster1', '--home', home]);
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    for (const server of ['server1', 'server2']) {
      await waitFor(`express on ${server}`, async () => (await answer(domain.servers[server]!.http, '/express/hello')).body.server === server, 30_000);
    }
    const installed = join(domain.dir, 'apps', 'express');
    expect(await readlink(join(installed, bin))).toBe(await readlink(join(source, bin)));
    expect((await stat(join(installed, 'uploads'))).isDirectory()).toBe(true);
    const packageJson = join('node_modules', 'express', 'package.json');
    // Kept to the millisecond: a time set in seconds as a double can land a nanosecond below its millisecond.
    expect(Math.abs((await stat(join(installed, packageJson))).mtimeMs - (await stat(join(source, packageJson))).mtimeMs)).toBeLessThan(1);
  });

  it('redeploys a small application, from this home and from another machine, each time answering the new content at once', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'dps', ['server1']);
    await startMaster(domain);
    await startManaged(home, 'dps', 'server1');
    const source = join(home, 'small');
    await mkdir(source);
    for (let i = 0; i < 22; i++) await writeFile(join(source, `asset-${i}.txt`), `asset ${i}\n`);
    const elsewhere = await tempHome(); // a machine without the domain: the application is uploaded
    const from = [['--home', home], ['--home', elsewhere, '--master', `127.0.0.1:${domain.masterPort}`, '--key-file', domain.keyFile]];
    const body = async () => {
      const response = await fetch(`http://127.0.0.1:${domain.servers.server1!.http}/small/`).catch(() => undefined);
      return response?.status === 200 ? response.text() : '';
    };
    for (let round = 0; round < 4; round++) {
      await writeFile(join(source, 'index.js'), `require('node:http').createServer((q, s) => s.end('round ${round}')).listen(Number(process.env.PORT), '127.0.0.1');\n`);
      await writeFile(join(source, 'asset-0.txt'), `asset 0, round ${round}\n`);
      const deployed = await run('master', ['deploy', 'dps', source, '--name', 'small', '--context', '/small', '--target', 'server1', ...from[round % 2]!]);
      expect(deployed.exitCode, deployed.stderr).toBe(0);
      // No fixed cost of seconds stands between a deploy and its answer (the figure is the bench's, 35-deploy).
      await waitFor(`round ${round} answering`, async () => (await body()) === `round ${round}`, 15_000, 10);
    }
  });

  it('refuses bad input clearly, leaving nothing behind', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'dp2', ['server1']);
    await startMaster(domain);
    const h = ['--home', home];
    expect((await run('master', ['deploy', 'dp2', hello, '--name', 'hello', '--context', '/hello', '--target', 'server1', ...h])).exitCode).toBe(0);

    const noEntry = join(home, 'no-entry');
    await mkdir(noEntry);
    await writeFile(join(noEntry, 'README.md'), 'no code here\n');
    const traversal = join(home, 'traversal.zip');
    makeZip(traversal, [{ name: 'index.js', text: 'x' }, { name: '../../evil.js', text: 'x' }]);
    const linked = join(home, 'linked.zip');
    makeZip(linked, [{ name: 'index.js', text: 'x' }, { name: 'key', text: '/etc/passwd', link: true }]);
    const escaping = join(home, 'escaping');
    await mkdir(escaping);
    await writeFile(join(escaping, 'package.json'), JSON.stringify({ main: '../../../../tmp/x.js' }));
    const absolute = join(home, 'absolute');
    await mkdir(absolute);
    await writeFile(join(absolute, 'package.json'), JSON.stringify({ main: '/etc/hostname' }));
    const absoluteLink = join(home, 'absolute-link');
    await mkdir(join(absoluteLink, 'node_modules', '.bin'), { recursive: true });
    await writeFile(join(absoluteLink, 'index.js'), 'x');
    await symlink('/etc/passwd', join(absoluteLink, 'node_modules', '.bin', 'passwd'));
    const leavingLink = join(home, 'leaving-link');
    await mkdir(join(leavingLink, 'node_modules', '.bin'), { recursive: true });
    await writeFile(join(leavingLink, 'index.js'), 'x');
    await symlink('../../../hello/index.js', join(leavingLink, 'node_modules', '.bin', 'other'));
    const notZip = join(home, 'not.zip');
    await writeFile(notZip, 'this is not a zip');

    const cases: Array<[string[], number, string]> = [
      [[noEntry, '--name', 'a', '--context', '/a', '--target', 'server1'], 2, 'has no entry point'],
      [[hello, '--name', 'b', '--context', '/hello', '--target', 'server1'], 2, 'context "/hello" is already used by application "hello"'],
      [[hello, '--name', 'c', '--context', '/c', '--target', 'nowhere'], 2, 'target "nowhere" is neither a server nor a cluster'],
      [[hello, '--name', 'bad name', '--context', '/d', '--target', 'server1'], 2, 'invalid application name "bad name"'],
      [[traversal, '--name', 'e', '--context', '/e', '--target', 'server1'], 4, 'contains ".." and would leave the application'],
      [[linked, '--name', 'f', '--context', '/f', '--target', 'server1'], 4, 'is a symbolic link'],
      [[notZip, '--name', 'g', '--context', '/g', '--target', 'server1'], 4, 'is not a readable zip archive'],
      [[escaping, '--name', 'i', '--context', '/i', '--target', 'server1'], 2, `${escaping}: package.json "main" "../../../../tmp/x.js" is outside the application`],
      [[absolute, '--name', 'j', '--context', '/j', '--target', 'server1'], 2, `${absolute}: package.json "main" "/etc/hostname" is outside the application`],
      [[absoluteLink, '--name', 'k', '--context', '/k', '--target', 'server1'], 2, `${absoluteLink}: ${join(absoluteLink, 'node_modules', '.bin', 'passwd')} is an absolute symbolic link`],
      [[leavingLink, '--name', 'l', '--context', '/l', '--target', 'server1'], 2, `${join(leavingLink, 'node_modules', '.bin', 'other')} is a symbolic link (apps/l/node_modules/.bin/other -> "../../../hello/index.js") that leaves the application apps/l`],
      [[hello, '--name', 'm', '--context', '/m/', '--target', 'server1'], 2, 'must not end with "/" (write /m)'],
      [[hello, '--name', 'n', '--context', '/n/../hello', '--target', 'server1'], 2, 'must not hold an empty, "." or ".." segment'],
      [[hello, '--name', 'o', '--context', '/-/o', '--target', 'server1'], 2, 'must not be /- or below it'],
      [[hello, '--name', '.deploy-p.tmp', '--context', '/p', '--target', 'server1'], 2, 'must not start with "."'],
      [[join(home, 'missing'), '--name', 'h', '--context', '/h', '--target', 'server1'], 2, 'does not exist'],
    ];
    for (const [args, code, message] of cases) {
      const result = await run('master', ['deploy', 'dp2', ...args, ...h]);
      expect(result.stderr, args.join(' ')).toContain(message);
      expect(result.exitCode, args.join(' ')).toBe(code);
    }
    expect(await readdir(join(domain.dir, 'apps'))).toEqual(['hello']);
    // `../../evil.js` from the staging directory would have landed in the domain directory.
    expect(await readdir(domain.dir)).not.toContain('evil.js');
  });

  it('refuses to deploy or undeploy while the MASTER is down (exit 3), before copying anything', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'dp3', ['server1']);
    for (const args of [['deploy', 'dp3', hello, '--name', 'hello', '--context', '/hello', '--target', 'server1'], ['undeploy', 'dp3', 'hello']]) {
      const result = await run('master', [...args, '--home', home]);
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toContain(`MASTER of dp3 at 127.0.0.1:${domain.masterPort} is unreachable: configuration changes need the MASTER`);
    }
    expect(await readdir(join(domain.dir, 'apps'))).toEqual([]);
  });
});
