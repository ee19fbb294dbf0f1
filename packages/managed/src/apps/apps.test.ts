import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killPid, repoRoot, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, managedStatus, masterStatus, startManaged, startMaster, type TestDomain } from '@flotilla/test-support/domain';
import { MAX_UNSTABLE, MIN_UPTIME_MS } from './restart-policy.js';

async function get(port: number, path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body };
}

async function addApp(domain: TestDomain, name: string, source: string | Record<string, string>): Promise<void> {
  const dir = join(domain.dir, 'apps', name);
  if (typeof source === 'string') await cp(source, dir, { recursive: true });
  else {
    await mkdir(dir, { recursive: true });
    for (const [file, text] of Object.entries(source)) await writeFile(join(dir, file), text);
  }
}

const hello = join(repoRoot, 'examples', 'hello');

/** Sends requests back to back until stopped; counts what did not come back 200. */
function load(port: number, path: string) {
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const versions = new Set<string>();
  const running = (async () => {
    while (!stop) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}${path}`);
        const body = await response.text();
        if (response.status === 200) {
          ok += 1;
          versions.add(JSON.parse(body).version);
        } else failures.push(`HTTP ${response.status}: ${body}`);
      } catch (error) {
        failures.push(String((error as Error).cause ?? error));
      }
    }
  })();
  return {
    async finish() {
      stop = true;
      await running;
      return { ok, failures, versions };
    },
    get ok() {
      return ok;
    },
  };
}

describe('applications on managed servers', () => {
  it('serve through each targeted server, not elsewhere, and keep serving while the MASTER dies and returns', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'a1', ['server1', 'server2', 'server3'],
      '  applications: { hello: { context: "/hello", targets: ["cluster1"] }, solo: { context: "/solo", targets: ["server3"] } },\n');
    await writeFile(domain.configFile, (await readFile(domain.configFile, 'utf8')).replace('cluster1: { servers: ["server1", "server2", "server3"] }', 'cluster1: { servers: ["server1", "server2"] }'));
    await addApp(domain, 'hello', hello);
    await addApp(domain, 'solo', hello);
    let master = await startMaster(domain);
    for (const server of ['server1', 'server2', 'server3']) await startManaged(home, 'a1', server);

    for (const server of ['server1', 'server2'] as const) {
      const answer = await get(domain.servers[server]!.http, '/hello/some/path?q=1');
      expect(answer).toMatchObject({ status: 200, body: { server, path: '/some/path?q=1' } });
    }
    expect((await get(domain.servers.server3!.http, '/hello/')).status).toBe(404);
    expect((await get(domain.servers.server3!.http, '/solo')).body.server).toBe('server3');
    const status = await managedStatus(home, 'a1', 'server1');
    expect(status.apps).toEqual([{ name: 'hello', context: '/hello', status: 'RUNNING', restarts: 0 }]);

    // Requests go on, without one failure, while the MASTER is killed and started again.
    const traffic = load(domain.servers.server1!.http, '/hello/');
    await waitFor('some traffic', () => traffic.ok > 20);
    killPid(master.pid);
    await master.child;
    await waitFor('server1 INDEPENDENT', async () => (await managedStatus(home, 'a1', 'server1')).mode === 'INDEPENDENT');
    const during = traffic.ok;
    await waitFor('traffic while the MASTER is down', () => traffic.ok > during + 20);
    master = await startMaster(domain);
    await waitFor('server1 MANAGED', async () => (await managedStatus(home, 'a1', 'server1')).mode === 'MANAGED');
    const result = await traffic.finish();
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(60);
  });

  it('replaces a changed application without a failed request, and serves its cache with the MASTER down', async () => {
    const home = await tempHome();
    const remoteHome = await tempHome();
    const domain = await createTestDomain(home, 'a2', ['server1'], '  applications: { hello: { context: "/hello", targets: ["server1"] } },\n');
    await addApp(domain, 'hello', hello);
    let master = await startMaster(domain);
    const args = ['--master', `127.0.0.1:${domain.masterPort}`, '--key-file', domain.keyFile];
    let server = await startManaged(remoteHome, 'a2', 'server1', args);
    const port = domain.servers.server1!.http;
    expect((await get(port, '/hello')).body.version).toBe('1');

    // A new version reaches the server through a new generation (MASTER restarted on new files).
    const traffic = load(port, '/hello');
    await waitFor('traffic', () => traffic.ok > 20);
    killPid(master.pid);
    await master.child;
    const indexFile = join(domain.dir, 'apps', 'hello', 'index.js');
    await writeFile(indexFile, (await readFile(indexFile, 'utf8')).replace("process.env.HELLO_VERSION || '1'", "'2'"));
    master = await startMaster(domain);
    await waitFor('version 2 answering', async () => (await get(port, '/hello')).body.version === '2');
    const before = traffic.ok;
    await waitFor('more traffic', () => traffic.ok > before + 20);
    const result = await traffic.finish();
    expect(result.failures).toEqual([]);
    expect([...result.versions].sort()).toEqual(['1', '2']);

    // The server restarted while the MASTER is down serves the cached application.
    killPid(master.pid);
    killPid(server.pid);
    await Promise.all([master.child, server.child]);
    server = await startManaged(remoteHome, 'a2', 'server1');
    expect(await managedStatus(remoteHome, 'a2', 'server1')).toMatchObject({ mode: 'INDEPENDENT', apps: [{ name: 'hello', status: 'RUNNING' }] });
    expect((await get(port, '/hello')).body).toMatchObject({ version: '2', server: 'server1' });
  });

  it('with reattach.applyApplications false, keeps running what it ran when it comes back, until it restarts', async () => {
    const home = await tempHome();
    const remoteHome = await tempHome();
    const domain = await createTestDomain(home, 'a4', ['server1'],
      '  reattach: { applyApplications: false },\n  applications: { hello: { context: "/hello", targets: ["server1"] } },\n');
    await addApp(domain, 'hello', hello);
    let master = await startMaster(domain);
    const args = ['--master', `127.0.0.1:${domain.masterPort}`, '--key-file', domain.keyFile];
    let server = await startManaged(remoteHome, 'a4', 'server1', args);
    const port = domain.servers.server1!.http;
    expect((await get(port, '/hello')).body.version).toBe('1');
    const away = (await managedStatus(remoteHome, 'a4', 'server1')).generation;

    killPid(master.pid);
    await master.child;
    await waitFor('server1 INDEPENDENT', async () => (await managedStatus(remoteHome, 'a4', 'server1')).mode === 'INDEPENDENT');
    const indexFile = join(domain.dir, 'apps', 'hello', 'index.js');
    await writeFile(indexFile, (await readFile(indexFile, 'utf8')).replace("process.env.HELLO_VERSION || '1'", "'2'"));
    master = await startMaster(domain);
    const back = await waitFor('server1 MANAGED on the new generation', async () => {
      const status = await managedStatus(remoteHome, 'a4', 'server1');
      return status.mode === 'MANAGED' && status.generation > away ? status : undefined;
    });
    expect(back.apps).toEqual([{ name: 'hello', context: '/hello', status: 'RUNNING', restarts: 0 }]);
    expect((await get(port, '/hello')).body.version).toBe('1');

    // The next start runs what the cache holds.
    killPid(server.pid);
    await server.child;
    server = await startManaged(remoteHome, 'a4', 'server1');
    expect((await get(port, '/hello')).body.version).toBe('2');
  });

  it('restarts a crashed application; one that cannot start leaves the server STANDBY', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'a3', ['server1'],
      '  applications: { crashy: { context: "/crashy", targets: ["server1"] }, broken: { context: "/broken", targets: ["server1"] } },\n');
    await addApp(domain, 'crashy', {
      'index.js': `require('node:http').createServer((req, res) => {
  if (req.url === '/boom') process.exit(3);
  res.end(JSON.stringify({ pid: process.pid }));
}).listen(Number(process.env.PORT), '127.0.0.1');\n`,
    });
    await addApp(domain, 'broken', { 'index.js': 'process.exit(1);\n' });
    await startMaster(domain);
    const server = await startManaged(home, 'a3', 'server1');
    const port = domain.servers.server1!.http;

    await waitFor('broken FAILED and the server STANDBY', async () => {
      const status = await managedStatus(home, 'a3', 'server1');
      return status.status === 'STANDBY' && status.apps.find((a: any) => a.name === 'broken')?.status === 'FAILED';
    });
    const broken = (await managedStatus(home, 'a3', 'server1')).apps.find((a: any) => a.name === 'broken');
    // Five unstable runs in a row: the first and four restarts, or more when a busy machine took a
    // run past MIN_UPTIME_MS (a run that long counts as stable, and the count starts again).
    expect(broken.restarts).toBeGreaterThanOrEqual(MAX_UNSTABLE - 1);
    expect(server.stderr()).toContain(`application broken exited ${MAX_UNSTABLE} times within ${MIN_UPTIME_MS} ms of starting (last: code 1); not restarted again`);
    await waitFor('STANDBY in the MASTER\'s table', async () => (await masterStatus(domain)).servers[1].status === 'STANDBY');

    const first = (await get(port, '/crashy/')).body.pid;
    await fetch(`http://127.0.0.1:${port}/crashy/boom`).catch(() => undefined);
    await waitFor('crashy back with a new process', async () => {
      const answer = await get(port, '/crashy/');
      return answer.status === 200 && answer.body.pid !== first;
    });
    const crashy = (await managedStatus(home, 'a3', 'server1')).apps.find((a: any) => a.name === 'crashy');
    expect(crashy).toMatchObject({ status: 'RUNNING', restarts: 1 });
  });

  it('never runs a package.json "main" outside the application: the application is FAILED, naming the entry', async () => {
    const home = await tempHome();
    const outside = join(home, 'outside.js');
    await writeFile(outside, `require('node:fs').writeFileSync(${JSON.stringify(join(home, 'ran'))}, 'ran');\n`);
    const domain = await createTestDomain(home, 'a5', ['server1'], '  applications: { escape: { context: "/escape", targets: ["server1"] } },\n');
    await addApp(domain, 'escape', { 'package.json': JSON.stringify({ main: '../../../../../../../../../../../..' + outside }), 'index.js': 'process.exit(1);\n' });
    await startMaster(domain);
    const server = await startManaged(home, 'a5', 'server1');
    await waitFor('escape FAILED', async () => (await managedStatus(home, 'a5', 'server1')).apps[0]?.status === 'FAILED');
    expect(server.stderr()).toMatch(/package.json \\"main\\" .*outside\.js.* is outside the application/);
    await expect(readFile(join(home, 'ran'), 'utf8')).rejects.toThrow();
  });
});
