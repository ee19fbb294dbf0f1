// Applications (issue 4): an HTTP load on a managed server serving examples/hello while its MASTER
// is SIGKILLed and restarted; the proxy's added latency; a start from cache with the MASTER down,
// to the first served request. Real binaries, a temporary home, autocannon in this process.
import { cpus } from 'node:os';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import autocannon from 'autocannon';
import {
  cli,
  cliAsync,
  createDomain,
  logLines,
  loopbackHeartbeat,
  median,
  percentile,
  root,
  serverState,
  sleep,
  spawnTracked,
  startDetached,
  startDetachedAsync,
  tempDir,
  timeMs,
  waitUntil,
} from '../lib.mjs';

export const title = 'applications';

/**
 * A closed-loop keep-alive load of `connections` connections for `seconds`. Latencies are taken
 * from autocannon's per-response timings (fractions of a millisecond; its own histogram keeps whole
 * milliseconds only), with the time each response arrived, so windows of the run can be examined.
 */
async function load(url, { connections, seconds, during }) {
  const samples = [];
  const t0 = performance.now();
  let reqErrors = 0;
  const instance = autocannon({ url, connections, duration: seconds, timeout: 10, pipelining: 1 });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) samples.push([performance.now() - t0, responseTime]);
  });
  instance.on('reqError', () => reqErrors++);
  const side = during ? during(t0) : Promise.resolve();
  const result = await instance;
  await side;
  const latencies = samples.map((s) => s[1]);
  return {
    requests: result.requests.total,
    failed: result.errors + result.timeouts + result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    reqErrors,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.reduce((a, b) => (b > a ? b : a), 0),
    samples,
  };
}

/** One request on a fresh connection: its status code, or the error's code ('aborted' if cut). */
function get(url) {
  return new Promise((resolve) => {
    const req = httpGet(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('close', () => resolve(res.complete ? res.statusCode : 'aborted'));
    });
    req.on('error', (error) => resolve(error.code ?? 'error'));
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
  });
}

function appPort(ms) {
  const line = logLines(ms, 'server1').filter((l) => l.code === 'MS-0070').at(-1);
  const match = line && /port (\d+)\)/.exec(line.msg);
  if (!match) throw new Error('bench: no MS-0070 line naming the application\'s port in server1\'s log');
  return Number(match[1]);
}

const status = (domain) => JSON.parse(cli('managed', ['status', domain.name, 'server1', '--home', domain.home, '--json']));

export async function run({ quick, log }) {
  const figures = [];
  const seconds = quick ? 12 : 30;
  const connections = 2 * cpus().length;
  const home = tempDir('apps');
  const { extra } = await loopbackHeartbeat();
  const domain = await createDomain(home, 'apps', 1, extra);
  let masterPid = startDetached('master', ['start', 'apps', '--home', home]);
  cli('master', ['deploy', 'apps', join(root, 'examples', 'hello'), '--name', 'hello', '--context', '/hello', '--target', 'cluster1', '--home', home]);
  // server1 runs from a home of its own, as on another machine: its cache is all it has of the domain.
  const msHome = tempDir('apps-ms');
  const ms = { ...domain, home: msHome, dir: join(msHome, 'domains', 'apps') };
  const keyFile = join(domain.dir, 'config', 'security', 'domain.key');
  startDetached('managed', ['start', 'apps', 'server1', '--home', msHome, '--master', `127.0.0.1:${domain.masterPort}`, '--key-file', keyFile]);
  await waitUntil('hello RUNNING on a MANAGED server1', () => {
    const s = status(ms);
    return s.mode === 'MANAGED' && s.apps[0]?.status === 'RUNNING';
  });
  const { http } = status(ms);
  const url = `http://127.0.0.1:${http}/hello/x`;
  const direct = `http://127.0.0.1:${appPort(ms)}/x`;
  log(`server1 serves ${url}; the application itself listens on ${direct}`);

  // Warm-up, then the same load without and with the MASTER killed at 1/3 and restarted at 2/3.
  await load(url, { connections, seconds: 2 });
  const baseline = await load(url, { connections, seconds });
  log(`baseline: ${baseline.requests} requests, p50 ${baseline.p50.toFixed(2)} ms, p99 ${baseline.p99.toFixed(2)} ms, failed ${baseline.failed}`);
  const marks = {};
  const killed = await load(url, {
    connections,
    seconds,
    during: async (t0) => {
      marks.wall0 = Date.now() - (performance.now() - t0);
      await sleep((seconds * 1000) / 3);
      marks.kill = performance.now() - t0;
      process.kill(masterPid, 'SIGKILL');
      await sleep((seconds * 1000) / 3 - (performance.now() - t0 - marks.kill));
      marks.restart = performance.now() - t0;
      masterPid = await startDetachedAsync('master', ['start', 'apps', '--home', home]);
      marks.ready = performance.now() - t0;
    },
  });
  await waitUntil('server1 MANAGED again', () => serverState(ms, 'server1')?.mode === 'MANAGED', 20_000);
  const since = (code) => logLines(ms, 'server1').filter((l) => l.code === code && Date.parse(l.time) >= marks.wall0 + marks.kill).map((l) => (Date.parse(l.time) - marks.wall0) / 1000);
  const lost = since('MS-0031');
  const attached = since('MS-0030');
  const window = (from, to) => percentile(killed.samples.filter(([t]) => t >= from && t < to).map((s) => s[1]), 99);
  log(
    `with the kill: ${killed.requests} requests, p50 ${killed.p50.toFixed(2)} ms, p99 ${killed.p99.toFixed(2)} ms, max ${killed.max.toFixed(1)} ms, ` +
      `failed ${killed.failed} (errors ${killed.errors}, timeouts ${killed.timeouts}, non-2xx ${killed.non2xx}); ` +
      `MASTER killed at ${(marks.kill / 1000).toFixed(1)} s, restarted at ${(marks.restart / 1000).toFixed(1)} s, serving at ${(marks.ready / 1000).toFixed(1)} s; ` +
      `p99 in the second after the restart: ${window(marks.restart, marks.restart + 1000)?.toFixed(2)} ms; server1 INDEPENDENT (MS-0031) at ${lost.map((t) => t.toFixed(1)).join(', ') || 'never'} s, MANAGED again (MS-0030) at ${attached.map((t) => t.toFixed(1)).join(', ') || 'never'} s (load ends at ${seconds} s)`,
  );
  const perSecond = Array.from({ length: seconds }, (_, i) => killed.samples.filter(([t]) => t >= i * 1000 && t < (i + 1) * 1000).length);
  log(`requests per second with the kill: ${perSecond.join(' ')}`);
  figures.push({ name: `requests failed while the MASTER is killed and restarted (${seconds} s, ${connections} connections)`, value: killed.failed, unit: 'requests', target: '0', meets: killed.failed === 0 });
  figures.push({ name: 'p99 latency under load, MASTER running', value: baseline.p99, unit: 'ms' });
  figures.push({ name: 'p99 latency under load, MASTER killed and restarted', value: killed.p99, unit: 'ms' });
  const p99Ratio = killed.p99 / baseline.p99;
  figures.push({ name: 'p99 with the kill relative to without', value: p99Ratio, unit: 'x', target: '<= 1.1x', meets: p99Ratio <= 1.1 });
  figures.push({ name: 'throughput with the kill relative to without', value: killed.requests / baseline.requests, unit: 'x' });

  // Proxy overhead: one connection, requests back to back, so latency is service time, not queueing.
  const overheadSeconds = quick ? 3 : 6;
  await load(direct, { connections: 1, seconds: 1 });
  const directRun = await load(direct, { connections: 1, seconds: overheadSeconds });
  const proxiedRun = await load(url, { connections: 1, seconds: overheadSeconds });
  const added = proxiedRun.p50 - directRun.p50;
  log(`one connection: direct p50 ${directRun.p50.toFixed(3)} ms p99 ${directRun.p99.toFixed(3)} ms; through server1 p50 ${proxiedRun.p50.toFixed(3)} ms p99 ${proxiedRun.p99.toFixed(3)} ms`);
  figures.push({ name: 'p50 latency, the application\'s own port (1 connection)', value: directRun.p50, unit: 'ms' });
  figures.push({ name: 'p50 latency through the managed server (1 connection)', value: proxiedRun.p50, unit: 'ms' });
  figures.push({ name: 'p50 latency added by the proxy', value: added, unit: 'ms', target: '< 1 ms', meets: added < 1 });

  // Start from the cache with the MASTER down, to the first request served.
  process.kill(masterPid, 'SIGKILL');
  await cliAsync('managed', ['stop', 'apps', 'server1', '--home', msHome]);
  await waitUntil('server1 and its application to stop', async () => (await get(url)) !== 200 && (await get(direct)) !== 200, 20_000);
  const starts = [];
  let fromCache = 0;
  for (let i = 0; i < 5; i++) {
    const begin = performance.now();
    const child = spawnTracked('managed', ['start', 'apps', 'server1', '--home', msHome], { node: true });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    let exited = false;
    const codes = new Set();
    void child.exited.then(() => (exited = true));
    for (;;) {
      if (exited) throw new Error(`bench: managed start exited before serving: ${stderr}`);
      const code = await get(url);
      if (code === 200) break;
      codes.add(code);
      if (performance.now() - begin > 30_000) throw new Error(`bench: no request served 30 s after managed start (answers: ${[...codes].join(', ')}): ${stderr}`);
      await sleep(5);
    }
    starts.push(performance.now() - begin);
    const mode = serverState(ms, 'server1')?.mode;
    if (mode !== 'INDEPENDENT') log(`note: server1 was ${mode} when it first served, not INDEPENDENT`);
    child.kill('SIGTERM');
    await child.exited;
    // In the foreground the server logs to stderr.
    if (stderr.includes('"code":"MS-0053"')) fromCache++;
  }
  const startMs = median(starts);
  const bare = [];
  for (let i = 0; i < 3; i++) bare.push((await timeMs(() => cliAsync('managed', ['--version']))).ms);
  log(
    `managed start (MASTER down, from cache) to first request served: ${starts.map((s) => Math.round(s)).join(', ')} ms ` +
      `(${fromCache} of 5 'started from the local cache', MS-0053); for scale, \`managed --version\` takes ${Math.round(median(bare))} ms`,
  );
  figures.push({ name: 'managed start, MASTER down, to first served request (median of 5)', value: startMs, unit: 'ms', target: '< 1500 ms', meets: startMs < 1500 });
  return figures;
}
