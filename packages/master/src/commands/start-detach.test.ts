import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { killPid, onCleanup, run, tempHome } from '@flotilla/test-support';
import { createTestDomain } from '@flotilla/test-support/domain';

const commandLine = async (pid: number) => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');

describe('master start --detach', () => {
  it('runs the MASTER with a small young generation (docs/operations.md#memory), unless the operator set one', async () => {
    for (const [domain, env, expected] of [
      ['md1', undefined, ['--max-semi-space-size=4']],
      ['md2', { NODE_OPTIONS: '--max-semi-space-size=8' }, []],
    ] as const) {
      const home = await tempHome();
      await createTestDomain(home, domain, []);
      const started = await run('master', ['start', domain, '--home', home, '--detach'], env && { env });
      expect(started.exitCode, started.stderr).toBe(0);
      const pid = Number(started.stdout.trim());
      onCleanup(() => killPid(pid));
      expect((await commandLine(pid)).filter((arg) => arg.startsWith('--max-semi-space-size'))).toEqual(expected);
    }
  });
});
