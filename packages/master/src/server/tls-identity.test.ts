import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tempHome } from '@flotilla/test-support';
import { createTestDomain, startMaster } from '@flotilla/test-support/domain';

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
