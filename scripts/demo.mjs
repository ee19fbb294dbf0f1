#!/usr/bin/env node
// The README's main job: a demo domain on this machine, run with the real binaries.
// Usage: npm run demo [-- --keep]   (--keep leaves the domain running to explore; the commands to
// stop it are printed)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');
const home = mkdtempSync(join(tmpdir(), 'flotilla-demo-'));
const bin = (name) => join(root, 'packages', name, 'bin', `${name}.js`);
const started = [];

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function step(title, binary, args, { quiet = false } = {}) {
  process.stderr.write(`\n== ${title}\n$ ${binary} ${args.join(' ')}\n`);
  const output = execFileSync(process.execPath, [bin(binary), ...args, '--home', home], { encoding: 'utf8' });
  if (!quiet) process.stdout.write(output);
  return output;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(what, check) {
  for (let tries = 0; tries < 100; tries++) {
    try {
      if (check()) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`demo: timed out waiting for ${what}`);
}

try {
  const [master, http1, http2] = [await freePort(), await freePort(), await freePort()];
  step('Create the demo domain: a MASTER and two managed servers in cluster1', 'master', [
    'create-domain', 'demo', '--address', '127.0.0.1', '--port', String(master), '--server', `server1:${http1}`, '--server', `server2:${http2}`,
  ]);
  started.push(['master', ['stop', 'demo']]);
  step('Start the MASTER in the background (its PID is printed)', 'master', ['start', 'demo', '--detach']);
  for (const server of ['server1', 'server2']) {
    started.push(['managed', ['stop', 'demo', server]]);
    step(`Start ${server}: it syncs the domain into its cache`, 'managed', ['start', 'demo', server, '--detach']);
  }
  await waitUntil('both servers MANAGED', () =>
    JSON.parse(execFileSync(process.execPath, [bin('master'), 'status', 'demo', '--home', home, '--json'], { encoding: 'utf8' }))
      .servers.filter((row) => row.mode === 'MANAGED').length === 2,
  );
  step('The server table, as the MASTER sees it', 'master', ['status', 'demo']);
  step('A configuration change, through the MASTER, reaches every server', 'master', ['config', 'set', 'demo', 'backup.keep', '20']);
  await sleep(300);
  step('server1\'s own view', 'managed', ['status', 'demo', 'server1']);
  if (keep) {
    process.stderr.write(`\nThe demo domain runs on. Explore it with --home ${home}, for example:\n  npx master status demo --home ${home}\nStop it with:\n`);
    for (const [binary, args] of started.reverse()) process.stderr.write(`  npx ${binary} ${args.join(' ')} --home ${home}\n`);
  }
} finally {
  if (!keep) {
    for (const [binary, args] of started.reverse()) {
      try {
        execFileSync(process.execPath, [bin(binary), ...args, '--home', home], { stdio: 'ignore' });
      } catch {
        // already stopped
      }
    }
    rmSync(home, { recursive: true, force: true });
    process.stderr.write(`\nEverything the demo started is stopped and ${home} removed (npm run demo -- --keep leaves it running).\n`);
  }
}
