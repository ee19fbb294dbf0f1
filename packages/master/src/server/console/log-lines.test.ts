import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempHome, waitFor } from '../../../../../test-support/index.js';
import { localLogLines } from './log-lines.js';

describe('a local log, followed', () => {
  it('says a missing file once, then gives its lines as they are written, and starts over after a rotation', async () => {
    const file = join(await tempHome(), 'server1.log');
    const controller = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const line of localLogLines(file, controller.signal)) seen.push(line);
    })();
    try {
      await waitFor('the missing file said', () => seen.length === 1);
      expect(seen[0]).toBe(`(no log at ${file} yet: a server started in the foreground logs to its terminal)`);
      await writeFile(file, 'one\ntw');
      await waitFor('the first whole line', () => seen.includes('one'));
      await appendFile(file, 'o\nthree\n');
      await waitFor('the lines written since', () => seen.includes('three'));
      expect(seen.slice(1)).toEqual(['one', 'two', 'three']);
      await writeFile(file, 'new\n');
      await waitFor('the rotated file read from its start', () => seen.includes('new'));
    } finally {
      controller.abort();
      await reading;
    }
  });
});
