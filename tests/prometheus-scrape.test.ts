/**
 * A real Prometheus scrapes the MASTER and a server over TLS with the scrape configuration that
 * docs/metrics.md shows: `scheme: https`, `tls_config.ca_file` (the domain's CA) and the token file.
 */
import { existsSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { killPid, onCleanup, run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, freePorts, startManaged, startMaster } from '@flotilla/test-support/domain';

/** Debian's prometheus package (scripts/system-packages.sh installs it). */
const PROMETHEUS = '/usr/bin/prometheus';
if (!existsSync(PROMETHEUS)) console.warn(`Prometheus scrape test skipped: ${PROMETHEUS} is absent (bash scripts/system-packages.sh installs it)`);

interface Target {
  scrapeUrl: string;
  health: string;
  lastError: string;
}

describe.skipIf(!existsSync(PROMETHEUS))('Prometheus scraping /metrics', () => {
  it('scrapes the MASTER and a server over TLS, trusting the domain CA through tls_config.ca_file', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'ps', ['server1']);
    await startMaster(domain);
    await startManaged(home, 'ps', 'server1');
    const token = JSON.parse((await run('master', ['metrics-token', 'ps', '--home', home, '--json'])).stdout).token as string;
    const dir = await tempHome();
    await writeFile(join(dir, 'token'), token, { mode: 0o600 });
    await copyFile(join(domain.dir, 'config', 'security', 'ca.crt'), join(dir, 'ca.crt'));
    await writeFile(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, scrape_timeout: 1s }
scrape_configs:
  - job_name: flotilla-ps
    scheme: https
    tls_config: { ca_file: ${join(dir, 'ca.crt')} }
    authorization: { credentials_file: ${join(dir, 'token')} }
    static_configs:
      - targets: ['127.0.0.1:${domain.masterPort}', '127.0.0.1:${domain.servers.server1!.port}']
`,
    );
    const [web] = await freePorts(1);
    const prometheus = execa(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${web}`], {
      reject: false,
      stdin: 'ignore',
    });
    onCleanup(() => killPid(prometheus.pid));

    const targets = await waitFor('both targets up in Prometheus', async () => {
      const answer = (await (await fetch(`http://127.0.0.1:${web}/api/v1/targets`)).json()) as { data: { activeTargets: Target[] } };
      const active = answer.data.activeTargets;
      return active.length === 2 && active.every((target) => target.health === 'up') && active;
    }, 30_000, 200);
    expect(targets.map((target) => target.lastError)).toEqual(['', '']);
    expect(targets.map((target) => target.scrapeUrl).sort()).toEqual(
      [`https://127.0.0.1:${domain.masterPort}/metrics`, `https://127.0.0.1:${domain.servers.server1!.port}/metrics`].sort(),
    );
  });
});
