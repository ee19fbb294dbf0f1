// Deploy (issue 14): from `master deploy` to the first answer of the new version on a managed
// server, for an npm tree (express, installed from the registry: 600+ files) and a 23-file app,
// first deploy and redeploys of one changed file; beside `cp -r && sync` of the same tree, in the
// same run. Real binaries, a temporary home, one MASTER and one managed server.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cliAsync, createDomain, median, root, startDetached, tempDir, timeMs, waitUntil } from '../lib.mjs';

export const title = 'deploy';

/** An app whose one route answers `marker`, so the new version is told from the old by its answer. */
const entry = (marker, express) =>
  express
    ? `const app = require('express')();\napp.get('/', (q, s) => s.send(${JSON.stringify(marker)}));\napp.listen(Number(process.env.PORT), '127.0.0.1');\n`
    : `require('node:http').createServer((q, s) => s.end(${JSON.stringify(marker)})).listen(Number(process.env.PORT), '127.0.0.1');\n`;

function countFiles(dir) {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) count += entry.isDirectory() ? countFiles(join(dir, entry.name)) : 1;
  return count;
}

/** The express fixture as its users install it: npm ci from its lockfile (the registry, or npm's cache). */
function expressTree(dir) {
  cpSync(join(root, 'packages', 'test-support', 'apps', 'express-hello'), dir, { recursive: true });
  execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, stdio: 'ignore' });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'express-deploy', private: true, main: 'app.js' }));
}

function smallTree(dir) {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 22; i++) writeFileSync(join(dir, `asset-${i}.txt`), `asset ${i}\n`.repeat(20));
}

async function answers(url, marker) {
  const response = await fetch(url).catch(() => undefined);
  return response?.status === 200 && (await response.text()) === marker;
}

export async function run({ quick, log }) {
  const home = tempDir('deploy');
  const domain = await createDomain(home, 'dep', 1);
  const http = Number(/http: (\d+)/.exec(readFileSync(join(domain.dir, 'config', 'domain.json5'), 'utf8'))[1]);
  startDetached('master', ['start', 'dep', '--home', home]);
  startDetached('managed', ['start', 'dep', 'server1', '--home', home]);
  const redeploys = quick ? 3 : 7;
  const figures = [];
  const trees = [
    { name: 'small', express: false, make: smallTree },
    { name: 'express', express: true, make: expressTree },
  ];
  for (const tree of trees) {
    const source = join(tempDir(`src-${tree.name}`), tree.name);
    tree.make(source);
    const files = countFiles(source) + 1;
    const url = `http://127.0.0.1:${http}/${tree.name}/`;
    /** master deploy, then the first answer of the new version: ms. */
    const deploy = async (marker) => {
      writeFileSync(join(source, tree.express ? 'app.js' : 'index.js'), entry(marker, tree.express));
      const started = performance.now();
      await cliAsync('master', ['deploy', 'dep', source, '--name', tree.name, '--context', `/${tree.name}`, '--target', 'server1', '--home', home]);
      const returned = performance.now() - started;
      await waitUntil(`${tree.name} answering ${marker}`, () => answers(url, marker));
      return { returned, answered: performance.now() - started };
    };
    const cold = await deploy('first');
    const again = [];
    for (let round = 0; round < redeploys; round++) again.push(await deploy(`round ${round}`));
    // The same tree copied by hand, made durable: what a deploy of it is compared against.
    const target = tempDir(`cp-${tree.name}`);
    const cp = timeMs(() => execFileSync('sh', ['-c', `cp -r "${source}" "${join(target, tree.name)}" && sync`])).ms;
    const bytes = Number(execFileSync('du', ['-sb', source], { encoding: 'utf8' }).split('\t')[0]);
    log(`${tree.name}: ${files} files, ${(bytes / 1024).toFixed(0)} KiB; first deploy ${cold.answered.toFixed(0)} ms (command ${cold.returned.toFixed(0)} ms), redeploys ${again.map((r) => r.answered.toFixed(0)).join(' ')} ms, cp -r && sync ${cp.toFixed(0)} ms`);
    figures.push({
      name: `first deploy of a ${files}-file app (${tree.name}), to its first answer`,
      value: cold.answered,
      unit: 'ms',
      peer: { name: 'cp -r && sync', value: cp },
    });
    figures.push({
      name: `redeploy of the ${files}-file app, one file changed, to its first answer (median of ${redeploys})`,
      value: median(again.map((r) => r.answered)),
      unit: 'ms',
    });
    figures.push({ name: `  of which master deploy returning (median)`, value: median(again.map((r) => r.returned)), unit: 'ms' });
  }
  cli('managed', ['stop', 'dep', 'server1', '--home', home]);
  cli('master', ['stop', 'dep', '--home', home]);
  return figures;
}
