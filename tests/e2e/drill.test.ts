import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { repoRoot } from '@flotilla/test-support';

/**
 * The README's main job is the end-to-end test of the mission on loopback: every step of the
 * failure drill (docs/contract.md#what-survives-what) with the real binaries, as a user runs it.
 */
describe('the failure drill (npm run demo)', () => {
  it('passes every step and prints the summary table', async () => {
    const result = await execa(process.execPath, [join(repoRoot, 'scripts', 'demo.mjs')], { reject: false, timeout: 240_000, stdin: 'ignore' });
    const table = String(result.stdout);
    expect(table, String(result.stderr).slice(-3000)).toContain('Flotilla failure drill');
    const rows = table.split('\n').filter((line) => /^\d+\s/.test(line));
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row).toMatch(/ PASS /);
    expect(table).toMatch(/Kill -9 the MASTER under load.*PASS.*\d+ requests, 0 failed/);
    expect(result.exitCode).toBe(0);
    expect(String(result.stderr)).toContain('Everything the demo started is stopped');
  }, 300_000);
});
