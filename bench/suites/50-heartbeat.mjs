// Heartbeats (issue 6): detection time after `kill -9` of a member (real `heartbeat join`
// processes watched by `heartbeat watch --json`, multicast on 127.0.0.1 in a group of their own);
// false FAILED declarations under stalls (real SIGSTOP/SIGCONT) and under 20% loss with stalls
// (the library's simulated network, simulated time); CPU and packets per member at 8, 32, 128.
import { randomBytes } from 'node:crypto';
import { Membership, SimNetwork } from '@flotilla/heartbeat';
import { createDomain, loopbackHeartbeat, median, onCleanup, percentile, sleep, spawnTracked, tempDir, waitUntil } from '../lib.mjs';

export const title = 'heartbeats';

const MEMBERS = 4;

/** A `heartbeat watch --json` process whose event lines are parsed as they come. */
function watcher(home, domain) {
  const child = spawnTracked('heartbeat', ['watch', domain, '--home', home, '--json'], { node: true });
  const events = [];
  let pending = '';
  child.stdout.on('data', (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) if (line.startsWith('{')) events.push({ ...JSON.parse(line), at: Date.parse(JSON.parse(line).time) });
  });
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

/** CPU and packets per member: real UDP multicast for 8 members in this process. */
async function realCost({ quick, log }) {
  const { group, port } = await loopbackHeartbeat();
  const key = randomBytes(32);
  const members = [];
  for (let i = 0; i < 8; i++) {
    members.push(
      await Membership.start({
        domain: 'cost',
        self: { name: `server${i + 1}`, address: '127.0.0.1' },
        key,
        transport: { mode: 'multicast', group, port, interface: '127.0.0.1', ttl: 1 },
      }),
    );
  }
  onCleanup(() => Promise.all(members.map((m) => m.stop())));
  await waitUntil('8 members to know each other', () => members.every((m) => m.members().filter((x) => x.state === 'ALIVE').length === 8), 20_000);
  await sleep(1_000);
  const seconds = quick ? 5 : 15;
  const before = members.map((m) => m.stats());
  const cpu = process.cpuUsage();
  await sleep(seconds * 1000);
  const used = process.cpuUsage(cpu);
  const after = members.map((m) => m.stats());
  await Promise.all(members.map((m) => m.stop()));
  const sent = after.reduce((sum, s, i) => sum + s.packetsSent - before[i].packetsSent, 0) / 8 / seconds;
  const received = after.reduce((sum, s, i) => sum + s.packetsReceived - before[i].packetsReceived, 0) / 8 / seconds;
  const cpuPercent = ((used.user + used.system) / 1e6 / seconds / 8) * 100;
  log(`real UDP, 8 members in one process for ${seconds} s: ${cpuPercent.toFixed(3)}% CPU, ${sent.toFixed(1)} packets/s sent and ${received.toFixed(1)} received per member`);
  return { cpuPercent, sent, received };
}

/** CPU and packets per member on the simulated network: protocol work (signing, checking, state), no syscalls. */
async function simulatedCost(count, simSeconds, shared = true) {
  const { net, members } = await simulate(count, { seed: 5, shared });
  net.advance(2_000);
  const before = [...members.values()].map((m) => m.stats());
  const cpu = process.cpuUsage();
  const real = performance.now();
  net.advance(simSeconds * 1000);
  const used = process.cpuUsage(cpu);
  const realMs = performance.now() - real;
  const after = [...members.values()].map((m) => m.stats());
  for (const m of members.values()) await m.stop();
  const sent = after.reduce((sum, s, i) => sum + s.packetsSent - before[i].packetsSent, 0) / count / simSeconds;
  const received = after.reduce((sum, s, i) => sum + s.packetsReceived - before[i].packetsReceived, 0) / count / simSeconds;
  const cpuPercent = ((used.user + used.system) / 1e6 / simSeconds / count) * 100;
  return { cpuPercent, sent, received, realMs };
}

export async function run({ quick, log }) {
  const figures = [...(await realRuns({ quick, log })), ...(await simulatedFalseFailures({ log }))];

  const real8 = await realCost({ quick, log });
  figures.push({ name: 'heartbeat CPU per member, 8 members (real UDP multicast)', value: real8.cpuPercent, unit: '% of a core' });
  figures.push({ name: 'heartbeat packets sent per member, 8 members (real UDP)', value: real8.sent, unit: 'packets/s' });
  figures.push({ name: 'heartbeat packets received per member, 8 members (real UDP)', value: real8.received, unit: 'packets/s' });
  for (const [count, shared] of [[8, true], [32, true], [128, true], [128, false]]) {
    const mode = shared ? 'multicast' : 'unicast';
    const simSeconds = quick ? (count >= 128 ? 2 : 10) : count >= 128 ? 10 : 30;
    const cost = await simulatedCost(count, simSeconds, shared);
    log(`simulated ${mode}, ${count} members for ${simSeconds} s (in ${Math.round(cost.realMs)} ms): ${cost.cpuPercent.toFixed(3)}% CPU, ${cost.sent.toFixed(1)} packets/s sent and ${cost.received.toFixed(1)} received per member`);
    figures.push({ name: `heartbeat CPU per member, ${count} members (simulated ${mode}, no syscalls)`, value: cost.cpuPercent, unit: '% of a core' });
    if (count === 8) continue; // the same traffic as the real run above: the CPU row calibrates the simulation
    figures.push({ name: `heartbeat packets sent per member, ${count} members (simulated ${mode})`, value: cost.sent, unit: 'packets/s' });
    figures.push({ name: `heartbeat packets received per member, ${count} members (simulated ${mode})`, value: cost.received, unit: 'packets/s' });
  }
  return figures;
}
