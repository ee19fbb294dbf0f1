import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { run, tempHome } from '@flotilla/test-support';
import { createTestDomain } from '@flotilla/test-support/domain';

/**
 * Timings that would stop the failure detector at start (a probe timeout that leaves no time for
 * indirect probes) are a configuration error at load, for every binary: neither the MASTER nor a
 * server may run without failure detection because of its configuration.
 */
describe('heartbeat timings checked at load', () => {
  it('probeTimeoutMs not below probeIntervalMs: master start and managed start exit 2 with file:line:column, starting nothing', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'ht1', ['server1'], '  heartbeat: { timings: { probeTimeoutMs: 300 } },\n');
    const lines = (await readFile(domain.configFile, 'utf8')).split('\n');
    const line = lines.findIndex((text) => text.includes('probeTimeoutMs')) + 1;
    const column = lines[line - 1]!.indexOf('300') + 1;
    const expected = `${domain.configFile}:${line}:${column} heartbeat.timings.probeTimeoutMs: must be below probeIntervalMs (200, its default; the indirect probes need the rest of the probe period), got number 300`;

    for (const args of [['master', 'start', 'ht1'], ['managed', 'start', 'ht1', 'server1']] as const) {
      const result = await run(args[0], [...args.slice(1), '--home', home], { timeout: 20_000 });
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 2 });
      expect(result.stderr).toContain(expected);
      expect(result.stderr).not.toMatch(/MA-0054|MS-0081/);
    }
  });
});
