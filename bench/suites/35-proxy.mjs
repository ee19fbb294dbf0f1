// The managed server's proxy against nginx (Debian's package) in front of the same plain node:http
// application, in one run, A B A B: throughput at 16 connections, p50 at one connection (added to
// the application's own port), a large download, and the managed server's memory under that load.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { cli, createDomain, freePorts, logLines, median, percentile, serverState, sleep, spawnTracked, startDetached, tempDir, waitUntil } from '../lib.mjs';

export const title = 'proxy against nginx';

/** The application both proxies stand in front of: `/` a small answer, `/big?mb=N` N MiB streamed with backpressure. */
const APP = `const http = require('node:http');
const chunk = Buffer.alloc(1024 * 1024, 97);
const server = http.createServer((request, response) => {
  const big = /^\\/big\\?mb=(\\d+)$/.exec(request.url);
  if (!big) return response.end('hello\\n');
  let left = Number(big[1]);
  response.setHeader('content-length', left * chunk.length);
  const more = () => {
    while (left > 0) {
      left--;
      if (!response.write(chunk)) return response.once('drain', more);
    }
    response.end();
  };
  more();
});
// Longer than the proxies' idle upstream connections, so that neither races a close (a 502).
server.keepAliveTimeout = 120000;
server.listen(Number(process.env.PORT), '127.0.0.1');
`;

function nginxConfig(dir, listen, upstream) {
  // One worker: the managed server's proxy is one Node process, so each side has one core's worth.
  return `worker_processes 1;
daemon off;
user root;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app { server 127.0.0.1:${upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${listen};
    location /plain/ {
      proxy_pass http://app/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

async function load(url, connections, seconds) {
  const latencies = [];
  const instance = autocannon({ url, connections, duration: seconds, timeout: 10, pipelining: 1 });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode === 200) latencies.push(responseTime);
  });
  const result = await instance;
  return { rate: result.requests.total / seconds, failed: result.errors + result.timeouts + result.non2xx, p50: percentile(latencies, 50) };
}

/** Downloads `url` to nowhere; its speed in MiB/s. */
function download(url, mib) {
  return new Promise((resolve, reject) => {
    const begin = performance.now();
    let bytes = 0;
    httpGet(url, { agent: false }, (response) => {
      response.on('data', (chunk) => (bytes += chunk.length));
      response.on('end', () => {
        if (bytes !== mib * 1024 * 1024) reject(new Error(`bench: ${url} gave ${bytes} bytes, not ${mib} MiB`));
        else resolve(mib / ((performance.now() - begin) / 1000));
      });
      response.on('error', reject);
    }).on('error', reject);
  });
}

const rssMiB = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

export async function run({ quick, log }) {
  if (spawnSync('nginx', ['-v']).error) {
    log('nginx is not installed (bash scripts/system-packages.sh installs it): suite skipped');
    return [];
  }
  const seconds = quick ? 3 : 8;
  const mib = quick ? 100 : 500;
  const rounds = 2;
  const home = tempDir('proxy');
  const domain = await createDomain(home, 'proxy', 1);
  const appDir = join(tempDir('proxy-app'), 'plain');
  mkdirSync(appDir);
  writeFileSync(join(appDir, 'index.js'), APP);
  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'plain', version: '1.0.0', main: 'index.js' }));
  startDetached('master', ['start', 'proxy', '--home', home]);
  cli('master', ['deploy', 'proxy', appDir, '--name', 'plain', '--context', '/plain', '--target', 'cluster1', '--home', home]);
  const serverPid = startDetached('managed', ['start', 'proxy', 'server1', '--home', home]);
  await waitUntil('plain RUNNING on server1', () => {
    const state = serverState(domain, 'server1');
    return state?.mode === 'MANAGED' && logLines(domain, 'server1').some((l) => l.code === 'MS-0070');
  });
  const status = JSON.parse(cli('managed', ['status', 'proxy', 'server1', '--home', home, '--json']));
  const appPort = Number(/port (\d+)\)/.exec(logLines(domain, 'server1').filter((l) => l.code === 'MS-0070').at(-1).msg)[1]);

  const nginxDir = tempDir('nginx');
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(nginxDir, sub));
  const [nginxPort] = await freePorts(1);
  writeFileSync(join(nginxDir, 'nginx.conf'), nginxConfig(nginxDir, nginxPort, appPort));
  const nginx = spawnTracked('nginx', ['-c', join(nginxDir, 'nginx.conf'), '-p', nginxDir]);
  const sides = { ours: `http://127.0.0.1:${status.http}/plain/`, nginx: `http://127.0.0.1:${nginxPort}/plain/`, direct: `http://127.0.0.1:${appPort}/` };
  await waitUntil('nginx and the proxy answering', async () => {
    const codes = await Promise.all(Object.values(sides).map((url) => new Promise((resolve) => httpGet(url, (r) => (r.resume(), resolve(r.statusCode))).on('error', () => resolve(0)))));
    return codes.every((code) => code === 200) || (nginx.exitCode !== null && Promise.reject(new Error(`bench: nginx exited ${nginx.exitCode}`)));
  }, 20_000);

  let peakRss = rssMiB(serverPid);
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(serverPid))), 100);
  const results = { ours: { rate: [], p50: [], speed: [] }, nginx: { rate: [], p50: [], speed: [] }, direct: { p50: [] } };
  try {
    await load(sides.ours, 16, 1);
    await load(sides.nginx, 16, 1);
    for (let round = 0; round < rounds; round++) {
      for (const side of ['ours', 'nginx']) {
        const run = await load(sides[side], 16, seconds);
        if (run.failed) log(`note: ${run.failed} requests failed through ${side}`);
        results[side].rate.push(run.rate);
      }
      for (const side of ['direct', 'ours', 'nginx']) results[side].p50.push((await load(sides[side], 1, Math.ceil(seconds / 2))).p50);
      for (const side of ['ours', 'nginx']) results[side].speed.push(await download(`${sides[side]}big?mb=${mib}`, mib));
      await sleep(10);
    }
  } finally {
    clearInterval(sampler);
  }
  const rate = (side) => median(results[side].rate);
  const p50 = (side) => median(results[side].p50);
  const speed = (side) => median(results[side].speed);
  const added = { ours: p50('ours') - p50('direct'), nginx: p50('nginx') - p50('direct') };
  log(
    `16 connections: ours ${results.ours.rate.map(Math.round).join(', ')} req/s, nginx ${results.nginx.rate.map(Math.round).join(', ')}; ` +
      `1 connection p50: direct ${results.direct.p50.map((v) => v.toFixed(3)).join(', ')} ms, ours ${results.ours.p50.map((v) => v.toFixed(3)).join(', ')}, nginx ${results.nginx.p50.map((v) => v.toFixed(3)).join(', ')}; ` +
      `${mib} MiB download: ours ${results.ours.speed.map(Math.round).join(', ')} MiB/s, nginx ${results.nginx.speed.map(Math.round).join(', ')}; managed server peak RSS ${Math.round(peakRss)} MiB`,
  );
  const throughput = rate('ours') / rate('nginx');
  const downloadRatio = speed('ours') / speed('nginx');
  return [
    { name: 'requests/s through the proxy, 16 connections (median of 2)', value: rate('ours'), unit: 'req/s', peer: { name: 'nginx', value: rate('nginx') } },
    { name: 'proxy throughput relative to nginx, 16 connections', value: throughput, unit: 'x', target: '>= 0.7x', meets: throughput >= 0.7 },
    { name: 'p50 latency added by the proxy (1 connection)', value: added.ours, unit: 'ms', target: '< 0.15 ms', meets: added.ours < 0.15, peer: { name: 'nginx', value: added.nginx } },
    { name: `${mib} MiB download through the proxy`, value: speed('ours'), unit: 'MiB/s', peer: { name: 'nginx', value: speed('nginx') } },
    { name: 'download speed relative to nginx', value: downloadRatio, unit: 'x', target: '>= 0.7x', meets: downloadRatio >= 0.7 },
    { name: 'managed server peak RSS under that load', value: peakRss, unit: 'MiB', target: '< 150 MiB', meets: peakRss < 150 },
  ];
}
