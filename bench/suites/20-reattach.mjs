// Re-attach: time from the MASTER ready to every managed server MANAGED again (16 servers), and
// time for a configuration change to reach all of them. Times are read from the servers' logs.
import { cli, createDomain, logLines, median, serverState, startDetached, tempDir, waitUntil, sleep } from '../lib.mjs';

export const title = 'MASTER and managed servers';

const SERVERS = 16;

function lastTime(domain, server, code, after, includes) {
  const lines = logLines(domain, server).filter((l) => l.code === code && Date.parse(l.time) >= after && (!includes || l.msg.includes(includes)));
  return lines.length ? Date.parse(lines[0].time) : undefined;
}

export async function run({ quick, log }) {
  const home = tempDir('reattach');
  const domain = await createDomain(home, 'ra', SERVERS);
  const rounds = quick ? 3 : 7;
  let masterPid = startDetached('master', ['start', 'ra', '--home', home]);
  const pids = domain.names.map((server) => startDetached('managed', ['start', 'ra', server, '--home', home]));
  const allIn = (mode) => domain.names.every((s) => serverState(domain, s)?.mode === mode);
  await waitUntil('all MANAGED', () => allIn('MANAGED'));
  log(`${SERVERS} servers MANAGED (pids ${pids[0]}…${pids.at(-1)})`);

  const reattach = [];
  for (let round = 0; round < rounds; round++) {
    process.kill(masterPid, 'SIGKILL');
    await waitUntil('all INDEPENDENT', () => allIn('INDEPENDENT'));
    const before = Date.now();
    masterPid = startDetached('master', ['start', 'ra', '--home', home]);
    await waitUntil('all MANAGED again', () => allIn('MANAGED'));
    const ready = Date.parse(logLines(domain, 'adminServer').filter((l) => l.code === 'MA-0002' && Date.parse(l.time) >= before)[0].time);
    // From `before`, not `ready`: a server may attach in the instant between the MASTER's listen and its ready line.
    const attached = domain.names.map((s) => lastTime(domain, s, 'MS-0030', before));
    reattach.push(Math.max(...attached) - ready);
  }
  const reattachMs = median(reattach);
  log(`re-attach rounds: ${reattach.join(', ')} ms`);

  const propagation = [];
  for (let round = 0; round < rounds; round++) {
    const out = JSON.parse(cli('master', ['config', 'set', 'ra', 'backup.keep', String(20 + round), '--home', home, '--json']));
    await waitUntil('all at the new generation', () => domain.names.every((s) => serverState(domain, s)?.generation === out.generation));
    const accepted = Date.parse(logLines(domain, 'adminServer').filter((l) => l.code === 'MA-0020' && l.msg.includes(`generation ${out.generation}`))[0].time);
    const synced = domain.names.map((s) => lastTime(domain, s, 'MS-0010', accepted, `generation ${out.generation} `));
    propagation.push(Math.max(...synced) - accepted);
    await sleep(50);
  }
  const propagationMs = median(propagation);
  log(`propagation rounds: ${propagation.join(', ')} ms`);

  for (const server of domain.names) cli('managed', ['stop', 'ra', server, '--home', home]);
  cli('master', ['stop', 'ra', '--home', home]);
  return [
    { name: `MASTER ready → all ${SERVERS} servers MANAGED (median of ${rounds})`, value: reattachMs, unit: 'ms', target: '< 500 ms', meets: reattachMs < 500 },
    { name: `configuration change → all ${SERVERS} servers synced (median of ${rounds})`, value: propagationMs, unit: 'ms', target: '< 300 ms', meets: propagationMs < 300 },
  ];
}
