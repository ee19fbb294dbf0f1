// Heartbeats (issue 6): detection time after `kill -9` of a member (real `heartbeat join`
// processes watched by `heartbeat watch --json`, multicast on 127.0.0.1 in a group of their own);
// false FAILED declarations under stalls (real SIGSTOP/SIGCONT) and under 20% loss with stalls
// (the library's simulated network, simulated time); CPU, packets per member and detection at 8,
// 32, 128 and 512 simulated members and at 8 and 24 real `heartbeat join` processes, in both modes
// (docs/contract.md#scale: flat as the group grows).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Membership, SimNetwork } from '@flotilla/heartbeat';
import { createDomain, freeUdpPorts, loopbackHeartbeat, median, percentile, sleep, spawnTracked, tempDir, waitUntil } from '../lib.mjs';

export const title = 'heartbeats';

const MEMBERS = 4;

/** The membership events a `--json` heartbeat process prints on stdout, parsed as they come, with their time. */
function membershipEvents(child) {
  const events = [];
  let pending = '';
  child.stdout.on('data', (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const event = JSON.parse(line);
      events.push({ ...event, at: Date.parse(event.time) });
    }
  });
  return events;
}

/** A `heartbeat watch --json` process whose event lines are parsed as they come. */
function watcher(home, domain) {
  const child = spawnTracked('heartbeat', ['watch', domain, '--home', home, '--json'], { node: true });
  const events = membershipEvents(child);
  child.stderr.resume();
  return { child, events, find: (server, event, after) => events.find((e) => e.server === server && e.event === event && e.at >= after) };
}

function join(home, domain, server) {
  const child = spawnTracked('heartbeat', ['join', domain, '--home', home, '--as', server], { node: true });
  child.stdout.resume();
  child.stderr.resume();
  return child;
}

/** Detection after SIGKILL with real processes; then 400 ms SIGSTOP stalls of one member. */
async function realRuns({ quick, log }) {
  const figures = [];
  const home = tempDir('heartbeat');
  const { group, port, extra } = await loopbackHeartbeat();
  const domain = await createDomain(home, 'hb', MEMBERS, extra);
  log(`multicast ${group}:${port} on 127.0.0.1, ${MEMBERS} members (heartbeat join) and a watcher`);
  const watch = watcher(home, 'hb');
  const members = Object.fromEntries(domain.names.map((name) => [name, join(home, 'hb', name)]));
  await waitUntil('every member to join', () => domain.names.every((name) => watch.find(name, 'joined', 0)), 20_000);

  const trials = quick ? 10 : 30;
  const detections = [];
  const suspicions = [];
  for (let trial = 0; trial < trials; trial++) {
    const victim = domain.names[trial % MEMBERS];
    await sleep(300 + Math.random() * 700); // a random phase against the probe period
    const killedAt = Date.now();
    members[victim].kill('SIGKILL');
    await waitUntil(`${victim} to be reported FAILED`, () => watch.find(victim, 'failed', killedAt - 1), 10_000);
    detections.push(watch.find(victim, 'failed', killedAt - 1).at - killedAt);
    suspicions.push((watch.find(victim, 'suspected', killedAt - 1)?.at ?? NaN) - killedAt);
    members[victim] = join(home, 'hb', victim);
    await waitUntil(`${victim} to rejoin`, () => watch.find(victim, 'rejoined', killedAt) || watch.find(victim, 'joined', killedAt), 10_000);
  }
  const med = median(detections);
  const p99 = percentile(detections, 99);
  log(`detection after SIGKILL (ms): ${detections.join(', ')}`);
  log(`suspected after (ms): median ${median(suspicions)}`);
  const peerNote = 'defaults: reference product 3 s heartbeat + 3 s verification; GlassFish GMS ≈ 7.5 s; WebLogic 30 s; memberlist (LAN) ≈ 4 s (quoted)';
  figures.push({ name: `failure detection after kill -9, median of ${trials} (real processes, loopback multicast)`, value: med / 1000, unit: 's', target: '< 0.75 s', meets: med < 750, peerNote });
  figures.push({ name: `failure detection after kill -9, p99 of ${trials}`, value: p99 / 1000, unit: 's', target: '< 1.5 s', meets: p99 < 1500 });

  // Real stalls: one member SIGSTOPped for 400 ms every 2 s, no loss.
  const stalls = quick ? 5 : 30;
  const stalled = domain.names[1];
  const since = Date.now();
  for (let i = 0; i < stalls; i++) {
    process.kill(members[stalled].pid, 'SIGSTOP');
    await sleep(400);
    process.kill(members[stalled].pid, 'SIGCONT');
    await sleep(1_600);
  }
  await sleep(2_000);
  const falseFailed = watch.events.filter((e) => e.event === 'failed' && e.at >= since).length;
  const suspected = watch.events.filter((e) => e.event === 'suspected' && e.at >= since).length;
  log(`${stalls} stalls of 400 ms of ${stalled} (SIGSTOP/SIGCONT): ${suspected} suspicions, ${falseFailed} FAILED`);
  figures.push({ name: `false FAILED, ${stalls} stalls of 400 ms of one member (real processes, SIGSTOP)`, value: falseFailed, unit: '', target: '0', meets: falseFailed === 0 });

  for (const child of [watch.child, ...Object.values(members)]) child.kill('SIGTERM');
  await Promise.all([watch.child, ...Object.values(members)].map((c) => Promise.race([c.exited, sleep(3_000)])));
  return figures;
}

/** N members (and optionally an observer) on a SimNetwork, converged. */
async function simulate(count, { loss = 0, seed = 1, observer = false, shared = true } = {}) {
  const net = new SimNetwork({ seed, loss, shared, latencyMs: 1 });
  const key = randomBytes(32);
  const members = new Map();
  const names = Array.from({ length: count }, (_, i) => `server${i + 1}`);
  const events = [];
  for (const name of [...(observer ? ['observer'] : []), ...names]) {
    const membership = await Membership.start({
      domain: 'sim',
      self: { name, address: '127.0.0.1', ...(name === 'observer' && { observer: true }) },
      key,
      transport: net.transport(name),
      clock: net.clock(name),
      random: net.random,
      epoch: 1_000_000 + net.now,
    });
    membership.on('event', (event) => events.push({ ...event, by: name, at: net.now }));
    members.set(name, membership);
  }
  net.runUntil('every member to know every other', () =>
    [...members.values()].every((m) => m.members({ observers: true }).filter((x) => x.state === 'ALIVE').length === members.size),
  120_000);
  return { net, members, events };
}

/** Simulated: ten minutes of 20% loss with 400 ms stalls of one member every 2 s. */
async function simulatedFalseFailures({ log }) {
  const { net, members, events } = await simulate(5, { loss: 0.2, seed: 11, observer: true });
  const startedAt = net.now;
  const real = performance.now();
  for (let i = 0; i < 300; i++) {
    net.pause('server2');
    net.advance(400);
    net.resume('server2');
    net.advance(1_600);
  }
  const after = events.filter((e) => e.at > startedAt);
  const seenByObserver = after.filter((e) => e.by === 'observer' && e.event === 'failed').length;
  const byAnyMember = after.filter((e) => e.event === 'failed').length;
  const suspicions = after.filter((e) => e.by === 'observer' && e.event === 'suspected').length;
  log(
    `simulated 10 min (in ${Math.round(performance.now() - real)} ms): 5 members + observer, 20% loss, server2 stalled 400 ms every 2 s: ` +
      `${suspicions} suspicions, ${seenByObserver} FAILED seen by the observer, ${byAnyMember} FAILED in any member's view`,
  );
  for (const m of members.values()) await m.stop();
  return [{ name: 'false FAILED, 10 min at 20% loss + 400 ms stalls every 2 s (simulated)', value: seenByObserver, unit: '', target: '0', meets: seenByObserver === 0 }];
}

/** A domain of `count` servers for real `heartbeat join` processes: multicast on 127.0.0.1 (TTL 1), or unicast with a port each. */
async function processDomain(mode, count) {
  const home = tempDir(`heartbeat-${mode}`);
  const { group, port } = await loopbackHeartbeat();
  const heartbeat = `  heartbeat: { mode: "${mode}", group: "${group}", port: ${port}, interface: "127.0.0.1", ttl: 1 },\n`;
  const domain = await createDomain(home, 'hbscale', count, heartbeat);
  if (mode === 'unicast') {
    // Members that share an address need a heartbeat port each.
    const own = await freeUdpPorts(count + 1);
    const file = `${domain.dir}/config/domain.json5`;
    let i = 0;
    writeFileSync(file, readFileSync(file, 'utf8').replace(/(port: \d+)(, http: \d+)? \}/g, (_, a, b = '') => `${a}${b}, heartbeatPort: ${own[i++]} }`));
  }
  return domain;
}

/** CPU seconds a process has used, from /proc (Linux). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100)
}

/** A `heartbeat join` process: its events (stdout, --json) and its counters (stderr, on SIGUSR2). */
function joinProcess(home, domain, server) {
  const child = spawnTracked('heartbeat', ['join', domain, '--home', home, '--as', server, '--json'], { node: true });
  const events = membershipEvents(child);
  const counters = [];
  let err = '';
  child.stderr.on('data', (chunk) => {
    err += chunk;
    for (const m of err.matchAll(/: sent (\d+) packets, received (\d+);/g)) counters.push({ sent: Number(m[1]), received: Number(m[2]) });
    err = err.slice(err.lastIndexOf('\n') + 1);
  });
  return { child, events, counters };
}

/** Per-member packets/s and CPU of `count` real member processes, and detection after kill -9. */
async function processCost(mode, count, { quick, log }) {
  const domain = await processDomain(mode, count);
  const members = domain.names.map((name) => joinProcess(domain.home, 'hbscale', name));
  const joined = (m) => new Set(m.events.filter((e) => e.event === 'joined' || e.event === 'rejoined').map((e) => e.server)).size >= count - 1;
  await waitUntil(`${count} ${mode} members to know each other`, () => members.every(joined), 120_000);
  await sleep(3_000); // the news of everyone starting is piggybacked a few times first
  const reading = async (n) => {
    for (const m of members) process.kill(m.child.pid, 'SIGUSR2');
    await waitUntil('every member\'s counters', () => members.every((m) => m.counters.length >= n), 20_000);
    return members.map((m) => ({ ...m.counters[n - 1], cpu: cpuSeconds(m.child.pid) }));
  };
  const seconds = quick ? 5 : 15;
  const before = await reading(1);
  const startedAt = Date.now();
  await sleep(seconds * 1000);
  const after = await reading(2);
  const elapsed = (Date.now() - startedAt) / 1000;
  const per = (field) => after.reduce((sum, a, i) => sum + a[field] - before[i][field], 0) / count / elapsed;
  const cost = { sent: per('sent'), received: per('received'), cpuPercent: per('cpu') * 100 };

  // Detection: one member after another killed, as the first survivor reports it.
  // At most half the group stays killed, and never the watcher (members[0]) itself.
  const trials = Math.min(quick ? 3 : 8, Math.floor(count / 2));
  const detections = [];
  const watcher = members[0];
  for (let trial = 1; trial <= trials; trial++) {
    const victim = members[count - trial];
    await sleep(300 + Math.random() * 700);
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    const server = domain.names[count - trial];
    const seen = () => watcher.events.find((e) => e.server === server && e.event === 'failed' && e.at >= killedAt - 1);
    await waitUntil(`${server} to be reported FAILED`, seen, 10_000);
    detections.push(seen().at - killedAt);
  }
  for (const m of members) m.child.kill('SIGKILL');
  await Promise.all(members.map((m) => m.child.exited));
  log(
    `real ${mode}, ${count} heartbeat join processes, ${seconds} s: ${cost.cpuPercent.toFixed(2)}% CPU, ${cost.sent.toFixed(1)} packets/s sent and ${cost.received.toFixed(1)} received per member; ` +
      `detection after kill -9 (ms): ${detections.sort((a, b) => a - b).join(', ')}`,
  );
  return { ...cost, detections };
}

/**
 * CPU, packets and detection per member on the simulated network: protocol work (signing,
 * checking, state), no syscalls. Measured after the members have all started and the news of it
 * has been piggybacked (a start costs each member a few packets per other member, once).
 */
async function simulatedCost(count, simSeconds, shared, trials) {
  const { net, members, events } = await simulate(count, { seed: 5, shared });
  try {
    net.advance(5_000);
    const before = [...members.values()].map((m) => m.stats());
    const cpu = process.cpuUsage();
    const real = performance.now();
    net.advance(simSeconds * 1000);
    const used = process.cpuUsage(cpu);
    const realMs = performance.now() - real;
    const after = [...members.values()].map((m) => m.stats());
    const sent = after.reduce((sum, s, i) => sum + s.packetsSent - before[i].packetsSent, 0) / count / simSeconds;
    const received = after.reduce((sum, s, i) => sum + s.packetsReceived - before[i].packetsReceived, 0) / count / simSeconds;
    const cpuPercent = ((used.user + used.system) / 1e6 / simSeconds / count) * 100;
    const names = [...members.keys()];
    const detections = [];
    // Victims stay crashed: at most half the group, so the last ones are still detected by a group
    // (and never the observer, names[0], itself).
    for (let trial = 1; trial <= Math.min(trials, Math.floor(count / 2)); trial++) {
      const victim = names[count - trial];
      net.advance(300 + trial * 37);
      net.crash(victim);
      const crashedAt = net.now;
      const seen = () => events.find((e) => e.by === names[0] && e.server === victim && e.event === 'failed');
      net.runUntil(`${victim} to be FAILED`, seen, 10_000, 5);
      detections.push(seen().at - crashedAt);
    }
    return { cpuPercent, sent, received, realMs, detections };
  } finally {
    // Also when a detection times out: a member left running keeps the bench's process alive.
    for (const m of members.values()) await m.stop();
  }
}

export async function run({ quick, log }) {
  const figures = [...(await realRuns({ quick, log })), ...(await simulatedFalseFailures({ log }))];
  const detectionFigures = (label, detections) => [
    { name: `failure detection median, ${label}`, value: median(detections) / 1000, unit: 's', target: '< 0.75 s', meets: median(detections) < 750 },
    { name: `failure detection p99, ${label}`, value: percentile(detections, 99) / 1000, unit: 's', target: '< 1.5 s', meets: percentile(detections, 99) < 1500 },
  ];

  // Simulated groups: quick mode leaves 512 out (starting 512 members takes a minute of CPU).
  const sizes = quick ? [8, 32, 128] : [8, 32, 128, 512];
  for (const shared of [true, false]) {
    const mode = shared ? 'multicast' : 'unicast';
    for (const count of sizes) {
      const simSeconds = quick ? 5 : count >= 512 ? 10 : 30;
      const cost = await simulatedCost(count, simSeconds, shared, quick ? 5 : 15);
      log(
        `simulated ${mode}, ${count} members for ${simSeconds} s (in ${Math.round(cost.realMs)} ms): ${cost.cpuPercent.toFixed(3)}% CPU, ` +
          `${cost.sent.toFixed(1)} packets/s sent and ${cost.received.toFixed(1)} received per member; detection (ms) ${cost.detections.sort((a, b) => a - b).join(', ')}`,
      );
      figures.push({ name: `heartbeat CPU per member, ${count} members (simulated ${mode}, no syscalls)`, value: cost.cpuPercent, unit: '% of a core' });
      figures.push({ name: `heartbeat packets sent per member, ${count} members (simulated ${mode})`, value: cost.sent, unit: 'packets/s' });
      figures.push({ name: `heartbeat packets received per member, ${count} members (simulated ${mode})`, value: cost.received, unit: 'packets/s' });
      figures.push(...detectionFigures(`${count} members (simulated ${mode})`, cost.detections));
    }
  }

  // Real `heartbeat join` processes on 127.0.0.1.
  for (const mode of ['multicast', 'unicast']) {
    for (const count of [8, 24]) {
      const cost = await processCost(mode, count, { quick, log });
      figures.push({ name: `heartbeat CPU per member, ${count} heartbeat join processes (${mode})`, value: cost.cpuPercent, unit: '% of a core' });
      figures.push({ name: `heartbeat packets sent per member, ${count} processes (${mode})`, value: cost.sent, unit: 'packets/s' });
      figures.push({ name: `heartbeat packets received per member, ${count} processes (${mode})`, value: cost.received, unit: 'packets/s' });
      figures.push(...detectionFigures(`${count} processes (${mode}, kill -9)`, cost.detections));
    }
  }
  return figures;
}
