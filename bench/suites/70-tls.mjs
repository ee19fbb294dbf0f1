// TLS: what it costs. The sync and re-attach suites run again, each in a process of its own, with
// TLS as shipped and on plain sockets (the same code, with bench/tls/plaintext.cjs preloaded into
// every process), in alternating order; and the MASTER's memory after 400 slow unauthenticated
// connections, against before them.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cli, createDomain, median, root, sleep, startDetached, tempDir } from '../lib.mjs';

export const title = 'TLS';

const execFileAsync = promisify(execFile);
const SHIM = join(root, 'bench', 'tls', 'plaintext.cjs');
const RUNNER = join(root, 'bench', 'tls', 'run-suite.mjs');
const SLOW_CONNECTIONS = 400;

async function suiteFigures(file, plain, log) {
  const env = { ...process.env, NODE_OPTIONS: plain ? `--require ${SHIM}` : '' };
  const { stdout, stderr } = await execFileAsync(process.execPath, [RUNNER, file, 'quick'], { env, maxBuffer: 64 * 1024 * 1024 });
  for (const line of stderr.split('\n').filter(Boolean)) log(`${plain ? 'plain' : 'tls  '} ${line.trim()}`);
  return JSON.parse(stdout);
}

const figure = (figures, prefix) => figures.find((f) => f.name.startsWith(prefix))?.value;

function rssMiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
}

/** The MASTER's resident memory before, while 400 strangers dribble headers, and after they left. */
async function slowConnections(log) {
  const home = tempDir('slow');
  const domain = await createDomain(home, 'sl', 1);
  const pid = startDetached('master', ['start', 'sl', '--home', home]);
  const ca = readFileSync(join(domain.dir, 'config', 'security', 'ca.crt'), 'utf8');
  await sleep(2_000);
  const before = rssMiB(pid);
  const sockets = Array.from({ length: SLOW_CONNECTIONS }, () => {
    const socket = connect({ host: '127.0.0.1', port: domain.masterPort, ca, checkServerIdentity: () => undefined });
    socket.on('error', () => {});
    socket.on('secureConnect', () => socket.write(`POST /v2/config HTTP/1.1\r\nhost: x\r\ncontent-length: ${2 ** 20}\r\nx-slow: `));
    return socket;
  });
  const drip = setInterval(() => sockets.forEach((socket) => !socket.destroyed && socket.write('a')), 500);
  await sleep(4_000);
  const during = rssMiB(pid);
  clearInterval(drip);
  const refused = sockets.filter((socket) => socket.destroyed).length;
  sockets.forEach((socket) => socket.destroy());
  await sleep(3_000);
  const after = rssMiB(pid);
  cli('master', ['stop', 'sl', '--home', home]);
  log(`MASTER resident: ${before.toFixed(1)} MiB idle, ${during.toFixed(1)} with ${SLOW_CONNECTIONS} slow strangers (${refused} refused at once), ${after.toFixed(1)} after`);
  return { before, during, after };
}

export async function run({ quick, log }) {
  const rounds = quick ? 1 : 3;
  const sync = { tls: [], plain: [] };
  const reattach = { tls: [], plain: [] };
  for (let round = 0; round < rounds; round++) {
    for (const plain of round % 2 === 0 ? [false, true] : [true, false]) {
      const mode = plain ? 'plain' : 'tls';
      sync[mode].push(figure(await suiteFigures('10-sync.mjs', plain, log), 'cold sync ') ?? Number.NaN);
      reattach[mode].push(figure(await suiteFigures('20-reattach.mjs', plain, log), 'MASTER ready') ?? Number.NaN);
    }
  }
  const ratio = median(sync.tls) / median(sync.plain);
  const memory = await slowConnections(log);
  /** In MB, as the target is (resident memory is read in KiB). */
  const grown = ((memory.after - memory.before) * 2 ** 20) / 1e6;
  return [
    {
      name: `cold sync with TLS against the same code on plain sockets (median of ${rounds})`,
      value: ratio,
      unit: 'x',
      target: 'at least 0.85x',
      meets: ratio >= 0.85,
      peerNote: `TLS ${Math.round(median(sync.tls))} MiB/s, plain ${Math.round(median(sync.plain))} MiB/s`,
    },
    {
      name: `MASTER ready → all 16 servers MANAGED, with TLS (median of ${rounds})`,
      value: median(reattach.tls),
      unit: 'ms',
      target: '< 500 ms',
      meets: median(reattach.tls) < 500,
      peerNote: `plain sockets: ${Math.round(median(reattach.plain))} ms`,
    },
    {
      name: `idle MASTER memory after ${SLOW_CONNECTIONS} slow unauthenticated connections, against before`,
      value: Math.round(grown * 10) / 10,
      unit: 'MB',
      target: 'within 20 MB',
      meets: grown <= 20,
      peerNote: `${memory.before.toFixed(0)} MiB before, ${memory.during.toFixed(0)} during, ${memory.after.toFixed(0)} after`,
    },
  ];
}
