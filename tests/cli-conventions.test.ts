import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot, run, type Binary } from '@flotilla/test-support';

const binaries: Binary[] = ['master', 'managed', 'pack-domain', 'unpack-domain', 'set-domain-backup', 'heartbeat'];

describe.each(binaries)('%s follows the shared CLI conventions', (binary) => {
  it('prints its version', async () => {
    const result = await run(binary, ['--version']);
    expect(result.exitCode).toBe(0);
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
    expect(result.stdout.trim()).toBe(version);
  });

  it('prints help on stdout, with the shared options', async () => {
    const result = await run(binary, ['--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(binary);
    expect(result.stdout).toContain('--home');
    expect(result.stdout).toContain('--json');
  });

  it('refuses an unknown option with exit 2 and a hint on stderr', async () => {
    const result = await run(binary, ['--bogus-option']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`Run "${binary} --help" for usage.`);
  });
});
