import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { tempHome } from '@flotilla/test-support';
import { domainLayout } from '../layout.js';
import { HISTORY_KEEP, writeDomainConfig } from './history.js';

describe('writeDomainConfig', () => {
  it('keeps the replaced version in .history, named by UTC time, newest 50 kept', async () => {
    const layout = domainLayout(await tempHome(), 'd1');
    await mkdir(layout.configDir, { recursive: true });
    await writeFile(layout.configFile, 'version 0');
    const start = Date.UTC(2026, 10, 24, 10, 0, 0);
    for (let n = 1; n <= HISTORY_KEEP + 5; n++) {
      // Two writes share each second: the second gets a _1 suffix and still sorts after the first.
      await writeDomainConfig(layout, `version ${n}`, new Date(start + Math.floor(n / 2) * 1000));
    }
    expect(await readFile(layout.configFile, 'utf8')).toBe(`version ${HISTORY_KEEP + 5}`);
    const versions = (await readdir(layout.historyDir)).sort();
    expect(versions).toHaveLength(HISTORY_KEEP);
    expect(versions).toContain('domain_20261124_100003.json5');
    expect(versions).toContain('domain_20261124_100003_1.json5');
    // The oldest five are gone: the newest kept holds the version just before the current one.
    expect(await readFile(`${layout.historyDir}/domain_20261124_100027_1.json5`, 'utf8')).toBe(`version ${HISTORY_KEEP + 4}`);
    const contents = await Promise.all(versions.map((name) => readFile(`${layout.historyDir}/${name}`, 'utf8')));
    expect(contents).not.toContain('version 0');
    expect(contents).toContain('version 5');
  });
});
