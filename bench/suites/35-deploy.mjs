// Deploy (issue 14): from the start of `master deploy` until BOTH managed servers answer the app's
// URL with the new content, for an npm tree (fastify as `npm ci` leaves it: 2000+ files) and a
// 20-file app; first deploys (every file new to the MASTER and the servers) and redeploys of one
// changed file; beside `cp -r SRC DST && sync` of the same tree, taken in turns with the deploys
// (A B A B) so that a busy machine slows both alike. Real binaries, a temporary home, one MASTER
// and two managed servers.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cliAsync, createDomain, median, root, sleep, startDetached, tempDir, timeMs, waitUntil } from '../lib.mjs';

export const title = 'deploy';

/** An app whose one route answers `marker`, so the new version is told from the old by its answer. */
const entries = {
  plain: (marker) => `require('node:http').createServer((q, s) => s.end(${JSON.stringify(marker)})).listen(Number(process.env.PORT), '127.0.0.1');\n`,
  fastify: (marker) =>
    `const app = require('fastify')();\napp.get('/', async () => ${JSON.stringify(marker)});\napp.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });\n`,
};

function countFiles(dir) {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) count += entry.isDirectory() ? countFiles(join(dir, entry.name)) : 1;
  return count;
}

/** The fastify fixture as its users install it: npm ci from its committed lockfile (the registry, or npm's cache). */
function npmTree(dir) {
  cpSync(join(root, 'packages', 'test-support', 'apps', 'fastify-hello'), dir, { recursive: true });
  execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, stdio: 'ignore' });
}

/** index.js and 19 small assets: 20 files. */
function smallTree(dir) {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 19; i++) writeFileSync(join(dir, `asset-${i}.txt`), `asset ${i}\n`.repeat(20));
}

async function answers(url, marker) {
  const response = await fetch(url).catch(() => undefined);
  return response?.status === 200 && (await response.text()) === marker;
}

/**
 * Resolves once `check` holds, probing every 5 ms: the figure is rounded up by 2.5 ms on average,
 * and the probes (answered by the servers and, once proxied, by the apps) take little of the CPU
 * the deploy itself needs.
 */
async function soon(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function generationOf(http) {
  const response = await fetch(`http://127.0.0.1:${http}/-/health`).catch(() => undefined);
  return response?.ok ? (await response.json()).generation : undefined;
}

export async function run({ quick, log }) {
  const home = tempDir('deploy');
  const domain = await createDomain(home, 'dep', 2);
  const config = readFileSync(join(domain.dir, 'config', 'domain.json5'), 'utf8');
  const https = [...config.matchAll(/http: (\d+)/g)].map((match) => Number(match[1]));
  startDetached('master', ['start', 'dep', '--home', home]);
  for (const server of domain.names) startDetached('managed', ['start', 'dep', server, '--home', home]);
  /** `master <command> dep ...rest --json`: its answer. */
  const master = async (command, ...rest) => JSON.parse((await cliAsync('master', [command, 'dep', ...rest, '--home', home, '--json'])).stdout);
  /** Both servers hold the MASTER's generation `generation` (after an undeploy, say). */
  const bothAt = (generation) => waitUntil(`both servers at generation ${generation}`, async () => (await Promise.all(https.map(generationOf))).every((g) => g === generation));

  const firsts = quick ? 3 : 5;
  const redeploys = quick ? 3 : 7;
  const figures = [];
  const trees = [
    { name: 'small', entry: 'index.js', make: smallTree, answer: entries.plain },
    { name: 'npm', entry: 'app.js', make: npmTree, answer: entries.fastify },
  ];
  for (const tree of trees) {
    const source = join(tempDir(`src-${tree.name}`), tree.name);
    tree.make(source);
    writeFileSync(join(source, tree.entry), tree.answer('built'));
    const files = countFiles(source);
    const bytes = Number(execFileSync('du', ['-sb', source], { encoding: 'utf8' }).split('\t')[0]);

    /** master deploy of `source` as `app` answering `marker`, until both servers answer it: ms. */
    const deploy = async (app, marker) => {
      writeFileSync(join(source, tree.entry), tree.answer(marker));
      const started = performance.now();
      const { generation } = await master('deploy', source, '--name', app, '--context', `/${app}`, '--target', 'cluster1');
      const returned = performance.now() - started;
      // The server's own health answer first, then the app: no request proxied to the old version
      // (which answers until the switch) while the server still syncs.
      await Promise.all(
        https.map(async (http) => {
          await soon(`generation ${generation} on port ${http}`, async () => (await generationOf(http)) >= generation);
          await soon(`${app} answering ${marker} on port ${http}`, () => answers(`http://127.0.0.1:${http}/${app}/`, marker));
        }),
      );
      return { returned, answered: performance.now() - started };
    };
    // The same tree copied by hand and made durable: what a deploy of it is compared against.
    const cpTarget = tempDir(`cp-${tree.name}`);
    let copies = 0;
    const cp = () => timeMs(() => execFileSync('sh', ['-c', `cp -r "${source}" "${join(cpTarget, String(copies++))}" && sync`])).ms;

    // First deploys: a new name each time, the one before undeployed, so that every file is new
    // to the MASTER (no hash remembered for its path) and to both servers (not in their generation).
    const cold = [];
    const cpTimes = [];
    let app;
    for (let round = 0; round < firsts; round++) {
      if (app) await bothAt((await master('undeploy', app)).generation);
      app = `${tree.name}${round}`;
      if (round % 2) cpTimes.push(cp());
      cold.push(await deploy(app, `first ${round}`));
      if (!(round % 2)) cpTimes.push(cp());
    }
    const again = [];
    for (let round = 0; round < redeploys; round++) {
      if (round % 2) cpTimes.push(cp());
      again.push(await deploy(app, `round ${round}`));
      if (!(round % 2)) cpTimes.push(cp());
    }
    await bothAt((await master('undeploy', app)).generation);
    log(
      `${tree.name}: ${files} files, ${(bytes / 1024).toFixed(0)} KiB, 2 servers; first deploys ${cold.map((r) => r.answered.toFixed(0)).join(' ')} ms ` +
        `(command ${cold.map((r) => r.returned.toFixed(0)).join(' ')}), redeploys ${again.map((r) => r.answered.toFixed(0)).join(' ')} ms ` +
        `(command ${again.map((r) => r.returned.toFixed(0)).join(' ')}), cp -r && sync ${cpTimes.map((ms) => ms.toFixed(0)).join(' ')} ms`,
    );
    const cpMedian = median(cpTimes);
    figures.push({
      name: `first deploy of a ${files}-file app (${tree.name}) to 2 servers, until both answer (median of ${firsts})`,
      value: median(cold.map((r) => r.answered)),
      unit: 'ms',
      target: tree.name === 'npm' ? '< 1000 ms' : '< 300 ms',
      meets: median(cold.map((r) => r.answered)) < (tree.name === 'npm' ? 1000 : 300),
      peer: { name: 'cp -r && sync', value: cpMedian },
    });
    figures.push({ name: `  of which master deploy returning (median)`, value: median(cold.map((r) => r.returned)), unit: 'ms' });
    figures.push({
      name: `redeploy of the ${files}-file app, one file changed, until both servers answer (median of ${redeploys})`,
      value: median(again.map((r) => r.answered)),
      unit: 'ms',
      peer: { name: 'cp -r && sync', value: cpMedian },
    });
    figures.push({ name: `  of which master deploy returning (median)`, value: median(again.map((r) => r.returned)), unit: 'ms' });
  }
  for (const server of domain.names) cli('managed', ['stop', 'dep', server, '--home', home]);
  cli('master', ['stop', 'dep', '--home', home]);
  return figures;
}
