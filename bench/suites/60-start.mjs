// Start time: every binary's --version and --help, and `master status` against a running MASTER,
// each the median of several runs of a fresh process, beside `node -e 0` (Node's own start).
// Scripts and cron call these in loops: what counts is the whole process, start to exit.
import { execFileSync } from 'node:child_process';
import { bin, createDomain, median, startDetached, tempDir, waitUntil } from '../lib.mjs';

export const title = 'Start time';

const BINARIES = ['master', 'managed', 'pack-domain', 'unpack-domain', 'set-domain-backup', 'heartbeat'];

function wallMs(args) {
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Median of `runs` after one warm-up run (which fills the page cache, as a loop's first call does). */
function startMs(args, runs) {
  wallMs(args);
  return median(Array.from({ length: runs }, () => wallMs(args)));
}

export async function run({ quick, log }) {
  const runs = quick ? 5 : 15;
  const node = startMs(['-e', '0'], runs);
  log(`node -e 0: ${node.toFixed(0)} ms`);
  const peer = { name: 'node -e 0', value: node };
  const figures = [];
  for (const binary of BINARIES) {
    for (const option of ['--version', '--help']) {
      const ms = startMs([bin(binary), option], runs);
      figures.push({ name: `${binary} ${option} (median of ${runs})`, value: ms, unit: 'ms', target: '< 200 ms', meets: ms < 200, peer });
    }
  }

  const home = tempDir('start');
  const domain = await createDomain(home, 'st', 2);
  startDetached('master', ['start', 'st', '--home', home]);
  const status = [bin('master'), 'status', 'st', '--home', home];
  await waitUntil('the MASTER to answer', () => (wallMs(status), true));
  const ms = startMs(status, runs);
  figures.push({ name: `master status, ${domain.names.length} servers (median of ${runs})`, value: ms, unit: 'ms', target: '< 400 ms', meets: ms < 400, peer });
  execFileSync(process.execPath, [bin('master'), 'stop', 'st', '--home', home], { stdio: 'ignore' });
  return figures;
}
