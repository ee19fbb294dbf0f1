import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { killPid, onCleanup, run, tempHome } from '@flotilla/test-support';
import { createTestDomain, startMaster } from '@flotilla/test-support/domain';

const commandLine = async (pid: number) => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');

describe('managed start --detach', () => {
  it('runs the server with a small young generation (docs/operations.md#memory), unless the operator set one', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'det', ['server1', 'server2']);
    await startMaster(domain);

    const detach = async (server: string, env?: Record<string, string>) => {
      const started = await run('managed', ['start', 'det', server, '--home', home, '--detach'], { env });
      expect(started.exitCode, started.stderr).toBe(0);
      const pid = Number(started.stdout.trim());
      onCleanup(() => killPid(pid));
      return pid;
    };
    expect(await commandLine(await detach('server1'))).toContain('--max-semi-space-size=4');
    const operators = await commandLine(await detach('server2', { NODE_OPTIONS: '--max-semi-space-size=8' }));
    expect(operators.filter((arg) => arg.startsWith('--max-semi-space-size'))).toEqual([]);
  });
});
