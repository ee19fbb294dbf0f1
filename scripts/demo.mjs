#!/usr/bin/env node
// The README's main job: the failure drill of docs/contract.md#what-survives-what on a demo domain on this machine,
// with the real binaries, narrated step by step and checked, ending with a summary table.
// Usage: npm run demo [-- --keep]   (--keep leaves the domain running to explore)
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');
const run = promisify(execFile);
const homes = [mkdtempSync(join(tmpdir(), 'flotilla-demo-')), mkdtempSync(join(tmpdir(), 'flotilla-demo-restored-'))];
const [home, restoredHome] = homes;
const bin = (name) => join(root, 'packages', name === 'set-domain-backup' ? 'master' : name, 'bin', `${name}.js`);
const say = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const results = [];

/** Runs a binary; returns { code, stdout, stderr } and echoes the command and its output. */
async function cli(binary, args, { show = true, on = home } = {}) {
  const shown = `$ ${binary} ${args.join(' ')}`;
  if (show) say(shown);
  try {
    const { stdout, stderr } = await run(process.execPath, [bin(binary), ...args, '--home', on], { encoding: 'utf8' });
    if (show && stdout.trim()) say(stdout.trimEnd().replace(/^/gm, '  '));
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (show) say(`  (exit ${error.code}) ${String(error.stderr).trim()}`);
    return { code: error.code, stdout: String(error.stdout), stderr: String(error.stderr) };
  }
}

async function json(binary, args, on = home) {
  const { code, stdout, stderr } = await cli(binary, [...args, '--json'], { show: false, on });
  if (code !== 0) throw new Error(`${binary} ${args.join(' ')}: exit ${code}: ${stderr.trim()}`);
  return JSON.parse(stdout);
}

async function until(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function step(title, work) {
  say(`\n== ${results.length + 1}. ${title}`);
  const started = Date.now();
  try {
    const detail = await work();
    results.push({ step: title, result: 'PASS', ms: Date.now() - started, detail: detail ?? '' });
  } catch (error) {
    results.push({ step: title, result: 'FAIL', ms: Date.now() - started, detail: error.message });
    say(`  FAILED: ${error.message}`);
    throw error;
  }
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer().once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A MASTER port whose servers' ports (10 apart above it) and HTTP ports are free too. */
async function freeLayout() {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 3_000) * 10;
    const http = base + 5;
    const wanted = [base, base + 10, base + 20, base + 30, http, http + 1, http + 2, base + 40];
    if ((await Promise.all(wanted.map(portFree))).every(Boolean)) return { master: base, http, moved: base + 40 };
  }
}

/** Requests back to back against `url` until stopped; counts what did not come back 200. */
function load(url) {
  let stop = false;
  let ok = 0;
  const failures = [];
  const running = (async () => {
    while (!stop) {
      try {
        const response = await fetch(url);
        await response.text();
        if (response.status === 200) ok += 1;
        else failures.push(`HTTP ${response.status}`);
      } catch (error) {
        failures.push(String(error.cause ?? error));
      }
    }
  })();
  return { get ok() { return ok; }, finish: async () => { stop = true; await running; return { ok, failures }; } };
}

const servers = ['server1', 'server2', 'server3'];
const masterPid = (on) => (async () => (await json('master', ['status', 'demo'], on)).servers[0].pid)();
const mode = async (server, on = home) => (await json('managed', ['status', 'demo', server], on)).mode;

function endEverything() {
  for (const h of homes) {
    for (const domain of readdirSync(join(h, 'domains'), { withFileTypes: true }).filter((e) => e.isDirectory())) {
      const dir = join(h, 'domains', domain.name, 'servers');
      for (const server of (() => { try { return readdirSync(dir); } catch { return []; } })()) {
        try {
          process.kill(Number(readFileSync(join(dir, server, 'server.pid'), 'utf8')), 'SIGTERM');
        } catch {
          // not running
        }
      }
    }
  }
}

let ports;
let failed = false;
try {
  ports = await freeLayout();
  const url = (i) => `http://127.0.0.1:${ports.http + i}/hello/`;

  await step('Create the domain: a MASTER and three managed servers in cluster1', async () => {
    const created = await cli('master', ['create-domain', 'demo', '--address', '127.0.0.1', '--port', String(ports.master),
      ...servers.flatMap((s, i) => ['--server', `${s}:${ports.http + i}`])]);
    if (created.code !== 0) throw new Error(created.stderr);
    return `${home}/domains/demo`;
  });

  await step('Start the MASTER and the servers; each syncs the domain into its cache', async () => {
    await cli('master', ['start', 'demo', '--detach']);
    for (const server of servers) await cli('managed', ['start', 'demo', server, '--detach']);
    await until('all servers MANAGED', async () => (await Promise.all(servers.map((s) => mode(s)))).every((m) => m === 'MANAGED'));
    await cli('master', ['status', 'demo']);
    return 'MASTER + 3 servers MANAGED';
  });

  await step('Deploy examples/hello to cluster1; it answers through every server', async () => {
    const deployed = await cli('master', ['deploy', 'demo', join(root, 'examples', 'hello'), '--name', 'hello', '--context', '/hello', '--target', 'cluster1']);
    if (deployed.code !== 0) throw new Error(deployed.stderr);
    const answers = [];
    for (let i = 0; i < servers.length; i++) {
      await until(`hello on ${servers[i]}`, async () => (await fetch(url(i))).status === 200);
      const body = await (await fetch(url(i))).json();
      say(`  GET ${url(i)} → ${JSON.stringify(body)}`);
      answers.push(body.server);
    }
    return `answered by ${answers.join(', ')}`;
  });

  await step('Kill -9 the MASTER under load: the servers keep serving, not one request fails', async () => {
    const traffic = load(url(0));
    await until('traffic', () => traffic.ok > 50);
    const pid = await masterPid(home);
    say(`$ kill -9 ${pid}   (the MASTER)`);
    process.kill(pid, 'SIGKILL');
    await until('server1 INDEPENDENT', async () => (await mode('server1')) === 'INDEPENDENT');
    const before = traffic.ok;
    await until('more traffic without the MASTER', () => traffic.ok > before + 200);
    const { ok, failures } = await traffic.finish();
    await cli('managed', ['status', 'demo', 'server1']);
    if (failures.length) throw new Error(`${failures.length} requests failed: ${failures[0]}`);
    return `${ok} requests, 0 failed`;
  });

  await step('Start a server while the MASTER is down: INDEPENDENT, from its cache', async () => {
    await cli('managed', ['stop', 'demo', 'server3']);
    const started = await cli('managed', ['start', 'demo', 'server3', '--detach']);
    if (started.code !== 0) throw new Error(started.stderr);
    const status = await json('managed', ['status', 'demo', 'server3']);
    if (status.mode !== 'INDEPENDENT' || status.reason !== 'master-unreachable-at-start') throw new Error(`server3 is ${status.mode} (${status.reason})`);
    const body = await (await fetch(url(2))).json();
    say(`  INDEPENDENT (${status.reason}); GET ${url(2)} → ${JSON.stringify(body)}`);
    return `INDEPENDENT, serving generation ${status.generation}`;
  });

  await step('Try a configuration change: refused while the MASTER is down (exit 3)', async () => {
    const refused = await cli('master', ['config', 'set', 'demo', 'backup.keep', '20']);
    if (refused.code !== 3) throw new Error(`exit ${refused.code}, expected 3`);
    return 'exit 3, nothing changed';
  });

  let archive;
  await step('Back the domain up with pack-domain', async () => {
    const packed = await json('pack-domain', ['demo']);
    archive = packed.path;
    say(`  ${archive}: ${packed.files} files, generation ${packed.generation}, ${packed.bytes} bytes`);
    return `${packed.files} files, generation ${packed.generation}`;
  });

  await step('Restore it into another home as if on a new machine, with the MASTER on another port', async () => {
    const restored = await cli('unpack-domain', ['-f', archive, '--port', String(ports.moved), '--yes'], { on: restoredHome });
    if (restored.code !== 0) throw new Error(restored.stderr);
    return `${restoredHome}, MASTER port ${ports.master} → ${ports.moved}`;
  });

  await step('Start the restored MASTER: every server follows it and is MANAGED again', async () => {
    const started = Date.now();
    await cli('master', ['start', 'demo', '--detach'], { on: restoredHome });
    await until('every server MANAGED', async () => (await Promise.all(servers.map((s) => mode(s)))).every((m) => m === 'MANAGED'));
    const elapsed = Date.now() - started;
    await cli('master', ['status', 'demo'], { on: restoredHome });
    const followed = await json('managed', ['status', 'demo', 'server1']);
    if (followed.master.port !== ports.moved) throw new Error(`server1 still points at port ${followed.master.port}`);
    return `all MANAGED ${elapsed} ms after the start; they now use port ${ports.moved}`;
  });

  await step('Kill -9 a server: its peers and the MASTER see it FAILED, and the MASTER restarts it', async () => {
    const before = (await json('managed', ['status', 'demo', 'server2'])).pid;
    say(`$ kill -9 ${before}   (server2)`);
    const killedAt = Date.now();
    process.kill(before, 'SIGKILL');
    let detected;
    await until('server2 FAILED at the MASTER', async () => {
      const row = (await json('master', ['status', 'demo'], restoredHome)).servers.find((r) => r.name === 'server2');
      if (row.status === 'FAILED' || row.status === 'FAILURE_SUSPECTED') detected ??= Date.now() - killedAt;
      return row.status === 'FAILED' || (detected !== undefined && row.status === 'RUNNING');
    });
    await until('server2 RUNNING again with a new PID', async () => {
      const row = (await json('master', ['status', 'demo'], restoredHome)).servers.find((r) => r.name === 'server2');
      return row.status === 'RUNNING' && row.pid && row.pid !== before;
    }, 60_000);
    const restartedAt = Date.now() - killedAt;
    await until('hello on server2 again', async () => (await fetch(url(1))).status === 200);
    await cli('master', ['status', 'demo'], { on: restoredHome });
    return `detected in ${detected} ms, RUNNING again in ${restartedAt} ms`;
  });
} catch {
  failed = true;
} finally {
  const width = Math.max(...results.map((r) => r.step.length));
  process.stdout.write(`\nFlotilla failure drill${failed ? ' (stopped at the first failure)' : ''}\n\n`);
  process.stdout.write(`${'#'.padEnd(3)}${'step'.padEnd(width + 2)}${'result'.padEnd(8)}${'time'.padStart(8)}  detail\n`);
  results.forEach((r, i) => {
    process.stdout.write(`${String(i + 1).padEnd(3)}${r.step.padEnd(width + 2)}${r.result.padEnd(8)}${`${(r.ms / 1000).toFixed(1)} s`.padStart(8)}  ${r.detail}\n`);
  });
  if (keep && !failed) {
    say(`\nThe domain runs on. The restored MASTER: --home ${restoredHome}; the servers: --home ${home}.`);
    say(`  npx master status demo --home ${restoredHome}`);
    say(`Stop it all with: npx managed stop demo serverN --home ${home} (N = 1, 2, 3), then npx master stop demo --home ${restoredHome}`);
  } else {
    endEverything();
    await sleep(500);
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    say(`\nEverything the demo started is stopped and its homes removed${keep ? '' : ' (npm run demo -- --keep leaves it running)'}.`);
  }
  process.exitCode = failed ? 1 : 0;
}
