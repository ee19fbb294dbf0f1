import { X509Certificate } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, managedStatus, startManaged, startMaster } from '@flotilla/test-support/domain';

describe("the MASTER's certificate", () => {
  it('is kept across restarts while it names the MASTER\'s addresses, and replaced when they change', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'ti', []);
    const certFile = join(domain.dir, 'servers', 'adminServer', 'tls.crt');
    const restart = async () => {
      const master = await startMaster(domain);
      expect((await run('master', ['stop', 'ti', '--home', home])).exitCode).toBe(0);
      await master.child;
      return readFile(certFile, 'utf8');
    };
    const first = await restart();
    expect((await stat(join(domain.dir, 'servers', 'adminServer', 'tls.key'))).mode & 0o777).toBe(0o600);
    expect(await restart()).toBe(first);

    // 127.0.0.2 is this machine too (all of 127/8 is loopback): a new address, a new certificate.
    const config = await readFile(domain.configFile, 'utf8');
    await writeFile(domain.configFile, config.replace('address: "127.0.0.1", port', 'address: "127.0.0.2", port'));
    const moved = await restart();
    expect(moved).not.toBe(first);
    expect(new X509Certificate(moved).checkIP('127.0.0.2')).toBe('127.0.0.2');
  });
});

describe("a domain from before TLS (docs/operations.md)", () => {
  it('gains its CA at its MASTER\'s next start, and a server with only the key learns it there', async () => {
    const home = await tempHome();
    const remote = await tempHome();
    const domain = await createTestDomain(home, 'old', ['server1']);
    const security = join(domain.dir, 'config', 'security');
    // What such a domain holds: a key, no CA.
    await rm(join(security, 'ca.crt'), { force: true });
    await rm(join(security, 'ca.key'), { force: true });

    const master = await startMaster(domain);
    expect(master.stderr()).toContain('[MA-0044]');
    expect(new X509Certificate(await readFile(join(security, 'ca.crt'), 'utf8')).ca).toBe(true);
    expect((await stat(join(security, 'ca.key'))).mode & 0o777).toBe(0o600);

    const server = await startManaged(remote, 'old', 'server1', ['--master', `127.0.0.1:${domain.masterPort}`, '--key-file', domain.keyFile]);
    expect(server.stderr()).toContain('[MS-0042]');
    await waitFor('server1 MANAGED', async () => (await managedStatus(remote, 'old', 'server1')).mode === 'MANAGED');
    const pinned = new X509Certificate(await readFile(join(remote, 'domains', 'old', 'servers', 'server1', 'cache', 'ca.crt'), 'utf8'));
    expect(pinned.fingerprint256).toBe(new X509Certificate(await readFile(join(security, 'ca.crt'), 'utf8')).fingerprint256);
  });
});
