// The MASTER at scale (docs/contract.md#scale): a configuration change sent to 16, 128 and 512 servers and
// re-attach after a MASTER start, with the servers simulated in this process by test-support's fleet
// (the real protocol over TLS), and the MASTER's memory and CPU while idle with 512 attached.
// The fleet shares the machine with the MASTER: its own TLS and parsing are in the figures.
import { readFileSync } from 'node:fs';
import { Fleet, until } from '../../packages/test-support/src/fleet.mjs';
import { cliAsync, createDomain, logLines, median, sleep, startDetachedAsync, tempDir, timeMs } from '../lib.mjs';

export const title = 'The MASTER at scale (simulated servers)';

const SIZES = [16, 128, 512];
/** How long the MASTER is watched while idle, after the re-attach has settled. */
const IDLE_MS = 5_000;
const SETTLE_MS = 3_000;
const CLOCK_TICKS = 100;

function firstTime(domain, code, after, includes) {
  const line = logLines(domain, 'adminServer').find((l) => l.code === code && Date.parse(l.time) >= after && (!includes || l.msg.includes(includes)));
  return line && Date.parse(line.time);
}

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function rssMiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
}

function stop(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function measure(size, rounds, log, idle) {
  const home = tempDir(`scale${size}`);
  const name = `sc${size}`;
  const domain = await createDomain(home, name, size);
  const fleet = await Fleet.create(home, name);
  // The commands run asynchronously: a synchronous one would freeze the fleet, which lives in this
  // process, until it exits, and the change or the MASTER's start would wait for it.
  let masterPid = await startDetachedAsync('master', ['start', name, '--home', home]);
  try {
    fleet.start();
    await until(`all ${size} attached`, () => fleet.allAttachedSince(0), 120_000);

    const fanOut = [];
    for (let round = 0; round < rounds; round++) {
      const out = JSON.parse((await cliAsync('master', ['config', 'set', name, 'backup.keep', String(20 + round), '--home', home, '--json'])).stdout);
      const synced = await until(`all ${size} at generation ${out.generation}`, () => fleet.allSynced(out.generation), 60_000);
      fanOut.push(synced - firstTime(domain, 'MA-0020', 0, `generation ${out.generation}`));
    }
    log(`${size} servers: change → all synced, rounds ${fanOut.join(', ')} ms`);

    const reattach = [];
    for (let round = 0; round < rounds; round++) {
      stop(masterPid);
      await until(`all ${size} detached`, () => fleet.attached === 0, 30_000);
      const before = Date.now();
      masterPid = await startDetachedAsync('master', ['start', name, '--home', home]);
      const last = await until(`all ${size} attached again`, () => fleet.allAttachedSince(before), 60_000);
      reattach.push(last - firstTime(domain, 'MA-0002', before));
    }
    log(`${size} servers: MASTER ready → all MANAGED, rounds ${reattach.join(', ')} ms`);

    const figures = { fanOutMs: median(fanOut), reattachMs: median(reattach) };
    if (idle) {
      // The status table as an operator reads it, human and --json, with every server attached.
      for (const format of [[], ['--json']]) {
        const times = [];
        for (let round = 0; round < rounds; round++) times.push((await timeMs(() => cliAsync('master', ['status', name, '--home', home, ...format]))).ms);
        figures[format.length ? 'statusJsonMs' : 'statusMs'] = median(times);
      }
      log(`${size} servers: master status ${figures.statusMs.toFixed(0)} ms, --json ${figures.statusJsonMs.toFixed(0)} ms`);
      await sleep(SETTLE_MS);
      const cpu = cpuSeconds(masterPid);
      await sleep(IDLE_MS);
      figures.idleCpu = (cpuSeconds(masterPid) - cpu) / (IDLE_MS / 1000);
      figures.rssMiB = rssMiB(masterPid);
      log(`${size} servers idle: MASTER CPU ${(figures.idleCpu * 100).toFixed(1)}% of a core, RSS ${figures.rssMiB.toFixed(0)} MiB`);
    }
    const unexpected = [...fleet.errors].filter(([error]) => !error.startsWith('PeerUnreachableError'));
    if (unexpected.length) log(`${size} servers: errors ${JSON.stringify(unexpected)}`);
    return figures;
  } finally {
    await fleet.stop();
    stop(masterPid);
  }
}

export async function run({ quick, log }) {
  // Two at least: a first change after the attach also pays each server's first full TLS handshakes.
  const rounds = quick ? 2 : 5;
  const figures = [];
  for (const size of SIZES) {
    const at = await measure(size, rounds, log, size === SIZES.at(-1));
    figures.push(
      { name: `configuration change → all ${size} servers synced (median of ${rounds})`, value: at.fanOutMs, unit: 'ms', target: '< 1000 ms', meets: at.fanOutMs < 1000 },
      { name: `MASTER ready → all ${size} servers MANAGED (median of ${rounds})`, value: at.reattachMs, unit: 'ms', target: '< 3000 ms', meets: at.reattachMs < 3000 },
    );
    if (at.rssMiB !== undefined) {
      figures.push(
        { name: `master status, ${size} servers (median of ${rounds})`, value: Math.round(at.statusMs), unit: 'ms', target: '< 1000 ms', meets: at.statusMs < 1000 },
        { name: `master status --json, ${size} servers (median of ${rounds})`, value: Math.round(at.statusJsonMs), unit: 'ms', target: '< 1000 ms', meets: at.statusJsonMs < 1000 },
        { name: `MASTER RSS, idle with ${size} servers attached`, value: Math.round(at.rssMiB), unit: 'MiB', target: '< 300 MiB', meets: at.rssMiB < 300 },
        { name: `MASTER CPU, idle with ${size} servers attached`, value: Math.round(at.idleCpu * 1000) / 10, unit: '% of a core', target: '< 100%', meets: at.idleCpu < 1 },
      );
    }
  }
  return figures;
}
