#!/usr/bin/env node
// The README's main job: a demo domain on this machine, built with the real binaries.
// Usage: npm run demo [-- --keep]   (--keep leaves the demo home in place to explore)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');
const home = mkdtempSync(join(tmpdir(), 'flotilla-demo-'));
const bin = (name) => join(root, 'packages', name, 'bin', `${name}.js`);

function step(title, binary, args) {
  process.stderr.write(`\n== ${title}\n$ ${binary} ${args.join(' ')}\n`);
  const output = execFileSync(process.execPath, [bin(binary), ...args, '--home', home], { encoding: 'utf8' });
  process.stdout.write(output);
}

try {
  step('Create the demo domain: a MASTER and two managed servers in cluster1', 'master', [
    'create-domain', 'demo', '--address', '127.0.0.1', '--port', '19736', '--server', 'server1:18088', '--server', 'server2:18089',
  ]);
  step('Load it back: the validated configuration, every default filled in', 'master', ['config', 'demo']);
  step('Read one setting, as a script would', 'master', ['config', 'get', 'demo', 'servers.server1.http']);
  process.stderr.write(`\nDemo home: ${home}${keep ? ' (kept)' : ' (removed; pass --keep to explore it)'}\n`);
} finally {
  if (!keep) rmSync(home, { recursive: true, force: true });
}
