// Shared helpers for the benchmark suites: real binaries, temporary homes, log timestamps.
import { execFileSync, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = fileURLToPath(new URL('..', import.meta.url));
const execFileAsync = promisify(execFile);

export function bin(name) {
  const pkg = name === 'set-domain-backup' ? 'master' : name;
  return join(root, 'packages', pkg, 'bin', `${name}.js`);
}

/** Runs a binary to completion; returns stdout; throws with stderr on failure. */
export function cli(name, args) {
  return execFileSync(process.execPath, [bin(name), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function cliAsync(name, args) {
  return execFileAsync(process.execPath, [bin(name), ...args], { encoding: 'utf8' });
}

export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `flotilla-bench-${prefix}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const cleanups = [];
export function onCleanup(fn) {
  cleanups.push(fn);
}
export async function cleanupAll() {
  while (cleanups.length) {
    try {
      await cleanups.pop()();
    } catch {
      // best effort: the bench must not leave processes behind, but one failure must not stop the rest
    }
  }
}

export async function freePorts(count) {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** A domain on free 127.0.0.1 ports with `servers` managed servers in cluster1. */
export async function createDomain(home, name, servers, extra = '') {
  cli('master', ['create-domain', name, '--home', home]);
  const ports = await freePorts(1 + servers * 2);
  const names = Array.from({ length: servers }, (_, i) => `server${i + 1}`);
  const lines = names.map((s, i) => `    ${s}: { node: "node1", address: "127.0.0.1", port: ${ports[1 + 2 * i]}, http: ${ports[2 + 2 * i]} },`);
  const dir = join(home, 'domains', name);
  writeFileSync(
    join(dir, 'config', 'domain.json5'),
    `{
  name: "${name}",
  master: { name: "adminServer", node: "node1", address: "127.0.0.1", port: ${ports[0]} },
  nodes: { node1: { host: "127.0.0.1" } },
  servers: {
${lines.join('\n')}
  },
  clusters: { cluster1: { servers: [${names.map((s) => `"${s}"`).join(', ')}] } },
${extra}}
`,
  );
  return { home, name, dir, names, masterPort: ports[0] };
}

/** Starts a server detached and registers its stop; returns its PID. */
export function startDetached(binary, args) {
  const pid = Number(cli(binary, [...args, '--detach']).trim());
  onCleanup(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return pid;
}

export function logLines(domain, server) {
  const file = join(domain.dir, 'servers', server, 'logs', `${server}.log`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

export function serverState(domain, server) {
  try {
    return JSON.parse(readFileSync(join(domain.dir, 'servers', server, 'state.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitUntil(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function timeMs(fn) {
  const start = process.hrtime.bigint();
  const result = fn();
  const done = (value) => ({ ms: Number(process.hrtime.bigint() - start) / 1e6, value });
  return result instanceof Promise ? result.then(done) : done(result);
}

/** startDetached without blocking the event loop (for use while a load runs in this process). */
export async function startDetachedAsync(binary, args) {
  const { stdout } = await cliAsync(binary, [...args, '--detach']);
  const pid = Number(stdout.trim());
  onCleanup(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return pid;
}

/** The PIDs of a process's descendants, children first, from /proc (empty when it is gone). */
function descendants(pid) {
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    // gone
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/**
 * Spawns a child process that the bench owns: it and what it started (nginx's worker) are
 * SIGKILLed, each by its PID, at cleanup if still running.
 * `node: true` runs a Flotilla binary (`command` is its name) with this Node.
 */
export function spawnTracked(command, args, options = {}) {
  const { node, ...spawnOptions } = options;
  const child = node
    ? spawn(process.execPath, [bin(command), ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions })
    : spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const started = descendants(child.pid);
      child.kill('SIGKILL');
      await child.exited;
      for (const pid of started) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
  return child;
}

/**
 * Runs a command to completion and returns its wall time and peak resident set size (KiB), from
 * `/usr/bin/time -f %M` when present, else from polling /proc/<pid>/status VmHWM.
 */
export async function measurePeak(command, args, options = {}) {
  const hasTime = existsSync('/usr/bin/time');
  const start = process.hrtime.bigint();
  const child = hasTime
    ? spawnTracked('/usr/bin/time', ['-f', 'PEAK_RSS_KIB=%M', command, ...args], options)
    : spawnTracked(command, args, options);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let polled = 0;
  const poll = hasTime
    ? undefined
    : setInterval(() => {
        try {
          const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (match) polled = Math.max(polled, Number(match[1]));
        } catch {
          // gone
        }
      }, 20);
  const { code, signal } = await child.exited;
  if (poll) clearInterval(poll);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code ?? signal}: ${stderr.slice(-2000)}`);
  const match = /PEAK_RSS_KIB=(\d+)/.exec(stderr);
  return { ms, peakKiB: match ? Number(match[1]) : polled, stdout, stderr };
}

/** Free UDP ports on 127.0.0.1 (bound then released). */
export async function freeUdpPorts(count) {
  const { createSocket } = await import('node:dgram');
  const sockets = [];
  for (let i = 0; i < count; i++) {
    const socket = createSocket('udp4');
    await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
    sockets.push(socket);
  }
  const ports = sockets.map((s) => s.address().port);
  for (const socket of sockets) socket.close();
  return ports;
}

/**
 * A `heartbeat:` block for createDomain's `extra`: multicast on the loopback interface, in a group
 * and on a port of its own, so that runs (and tests running beside them) never hear each other.
 */
export async function loopbackHeartbeat() {
  const group = `239.192.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const [port] = await freeUdpPorts(1);
  return { group, port, extra: `  heartbeat: { mode: "multicast", group: "${group}", port: ${port}, interface: "127.0.0.1" },\n` };
}
