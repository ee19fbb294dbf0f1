import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killPid, run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, masterStatus, startManaged, startMaster, type TestDomain } from '@flotilla/test-support/domain';
import { domainCa } from '@flotilla/test-support/management';
import { PROMTOOL, promtoolCheck, scrape, series, value, type MetricFamily } from '@flotilla/test-support/prometheus';

/** Exits on /boom: a crash the managed server restarts. */
const CRASHY = `require('node:http').createServer((req, res) => {
  if (req.url === '/boom') process.exit(3);
  res.end(JSON.stringify({ pid: process.pid }));
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

if (!existsSync(PROMTOOL)) console.warn(`promtool check of /metrics skipped: ${PROMTOOL} is absent (bash scripts/system-packages.sh installs it)`);

async function metricsToken(domain: TestDomain): Promise<string> {
  const printed = await run('master', ['metrics-token', domain.name, '--home', domain.home, '--json']);
  expect(printed.exitCode).toBe(0);
  return JSON.parse(printed.stdout).token;
}

describe('/metrics on the MASTER and on every managed server', () => {
  it('the MASTER: refused without the token; server states, generation lag, heartbeat traffic and failures, backup age', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'm1', ['server1', 'server2'], '', { autoRestart: true });
    const master = await startMaster(domain);
    const server1 = await startManaged(home, 'm1', 'server1');
    const server2 = await startManaged(home, 'm1', 'server2');
    const token = await metricsToken(domain);
    const ca = await domainCa(domain);
    const masterMetrics = async () => (await scrape(domain.masterPort, token, ca)).families;

    // Prometheus cannot sign requests: a bearer token derived from the key, never the key.
    expect(token).not.toContain((await readFile(domain.keyFile, 'utf8')).trim());
    for (const port of [domain.masterPort, domain.servers.server1!.port]) {
      expect((await scrape(port, undefined, ca)).status).toBe(401);
      expect((await scrape(port, 'not-the-token', ca)).status).toBe(401);
    }
    await waitFor('the refusals logged', () =>
      master.stderr().includes('[MA-0043] refused a metrics scrape (no bearer token)') && server1.stderr().includes('[MS-0041] refused a metrics scrape (wrong bearer token)'));
    const ok = await scrape(domain.masterPort, token, ca);
    expect(ok.status).toBe(200);
    expect(ok.contentType).toMatch(/^text\/plain; version=0\.0\.4/);

    await waitFor('both servers RUNNING in the metrics', async () => {
      const families = await masterMetrics();
      return ['server1', 'server2'].every((server) => value(families, 'flotilla_server_status', { server, status: 'RUNNING' }) === 1);
    });
    const families = await masterMetrics();
    expect(value(families, 'flotilla_server_status', { server: 'adminServer', status: 'RUNNING' })).toBe(1);
    expect(value(families, 'flotilla_server_status', { server: 'server1', status: 'FAILED' })).toBe(0);
    expect(value(families, 'flotilla_generation')).toBe((await masterStatus(domain)).generation);
    expect(value(families, 'flotilla_server_generation_lag', { server: 'server1' })).toBe(0);
    expect(value(families, 'flotilla_heartbeat_packets_dropped_total', { reason: 'badSignature' })).toBe(0);
    expect(series(families, 'flotilla_backup_age_seconds')).toBeUndefined();
    expect(families.find((family) => family.name === 'process_resident_memory_bytes')).toBeDefined();
    const sent = value(families, 'flotilla_heartbeat_packets_sent_total');
    expect(sent).toBeGreaterThan(0);
    await waitFor('heartbeat traffic moving, every member seen ALIVE', async () => {
      const later = await masterMetrics();
      return value(later, 'flotilla_heartbeat_packets_sent_total') > sent
        && value(later, 'flotilla_heartbeat_packets_received_total') > 0
        && value(later, 'flotilla_heartbeat_members', { state: 'ALIVE' }) === 3;
    });

    // A change: the lag closes once the servers have synchronised it.
    expect((await run('master', ['config', 'set', 'm1', 'backup.keep', '20', '--home', home])).exitCode).toBe(0);
    await waitFor('no lag after the change', async () => {
      const later = await masterMetrics();
      return value(later, 'flotilla_generation') === value(families, 'flotilla_generation') + 1 && value(later, 'flotilla_server_generation_lag', { server: 'server1' }) === 0;
    });

    killPid(server2.pid);
    await waitFor('server2 failed in the heartbeat counts', async () => value(await masterMetrics(), 'flotilla_heartbeat_events_total', { event: 'failed', member: 'server2' }) >= 1);
    expect(value(await masterMetrics(), 'flotilla_heartbeat_events_total', { event: 'suspected', member: 'server2' })).toBeGreaterThanOrEqual(1);
    // The MASTER restarts it (autoRestart): RUNNING again under a new PID.
    await waitFor('server2 RUNNING again', async () => {
      const row = (await masterStatus(domain)).servers.find((r: any) => r.name === 'server2');
      return row.status === 'RUNNING' && row.pid !== server2.pid && value(await masterMetrics(), 'flotilla_server_status', { server: 'server2', status: 'RUNNING' }) === 1;
    }, 40_000);
    // Its peer saw it fail too.
    expect(value((await scrape(domain.servers.server1!.port, token, ca)).families, 'flotilla_heartbeat_events_total', { event: 'failed', member: 'server2' })).toBeGreaterThanOrEqual(1);

    expect((await run('pack-domain', ['m1', '--home', home])).exitCode).toBe(0);
    const age = value(await masterMetrics(), 'flotilla_backup_age_seconds', { kind: 'requested' });
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
  });

  it('a managed server: syncs and their bytes, proxied requests by application and status class, application restarts', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'm2', ['server1'], '  applications: { crashy: { context: "/crashy", targets: ["server1"] } },\n');
    await mkdir(join(domain.dir, 'apps', 'crashy'), { recursive: true });
    await writeFile(join(domain.dir, 'apps', 'crashy', 'index.js'), CRASHY);
    await startMaster(domain);
    await startManaged(home, 'm2', 'server1');
    const token = await metricsToken(domain);
    const ca = await domainCa(domain);
    const serverMetrics = async () => (await scrape(domain.servers.server1!.port, token, ca)).families;

    const before = await serverMetrics();
    const syncs = value(before, 'flotilla_sync_duration_seconds', { outcome: 'changed' });
    const bytes = value(before, 'flotilla_sync_bytes_total');
    expect(syncs).toBeGreaterThanOrEqual(1); // the first sync, at start
    expect(bytes).toBeGreaterThan(0);
    expect(value(before, 'flotilla_server_mode', { mode: 'MANAGED' })).toBe(1);
    const generation = value(before, 'flotilla_generation');
    // A change to the configuration only: the application's version, and its restart count, stay.
    expect((await run('master', ['config', 'set', 'm2', 'backup.keep', '20', '--home', home])).exitCode).toBe(0);
    await waitFor('server1 synchronised the new generation', async () => {
      const after = await serverMetrics();
      return value(after, 'flotilla_generation') > generation && value(after, 'flotilla_sync_duration_seconds', { outcome: 'changed' }) > syncs;
    });
    expect(value(await serverMetrics(), 'flotilla_sync_bytes_total')).toBeGreaterThan(bytes);

    const http = domain.servers.server1!.http;
    const requests = (families: MetricFamily[]) => value(families, 'flotilla_proxy_requests_total', { app: 'crashy', code: '2xx' }) || 0;
    const served = requests(await serverMetrics());
    for (let i = 0; i < 3; i++) expect((await fetch(`http://127.0.0.1:${http}/crashy/`)).status).toBe(200);
    // Counted when the answer has gone out, which the client may see first.
    await waitFor('three requests counted', async () => requests(await serverMetrics()) === served + 3);
    const afterRequests = await serverMetrics();
    expect(value(afterRequests, 'flotilla_proxy_request_duration_seconds', { app: 'crashy', code: '2xx' })).toBe(served + 3);
    expect(value(afterRequests, 'flotilla_app_restarts_total', { app: 'crashy' })).toBe(0);

    await fetch(`http://127.0.0.1:${http}/crashy/boom`).catch(() => undefined);
    await waitFor('the restart counted', async () => value(await serverMetrics(), 'flotilla_app_restarts_total', { app: 'crashy' }) === 1);
  });

  it.skipIf(!existsSync(PROMTOOL))('passes promtool check metrics on the MASTER and on a server', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'm3', ['server1']);
    await startMaster(domain);
    await startManaged(home, 'm3', 'server1');
    const token = await metricsToken(domain);
    const ca = await domainCa(domain);
    for (const [who, port] of [['the MASTER', domain.masterPort], ['server1', domain.servers.server1!.port]] as const) {
      const scraped = await scrape(port, token, ca);
      expect(scraped.status).toBe(200);
      const checked = await promtoolCheck(scraped.text);
      expect({ who, ...checked }).toEqual({ who, exitCode: 0, problems: '' });
    }
  });
});
