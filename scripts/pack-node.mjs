#!/usr/bin/env node
// Packs Flotilla for a node that has no checkout (docs/operations.md, "Adding a node"): one npm
// tarball, flotilla-<version>.tgz, that brings every binary (master, managed, pack-domain,
// unpack-domain, set-domain-backup, heartbeat). Everything travels inside it as bundled
// dependencies: the workspace packages and their third-party dependencies (yargs, zod, pino, ...,
// resolved here once from the registry at the ranges the packages declare). So installing it asks
// the registry for nothing: not for a package named @flotilla/..., master or managed, names that
// could be anyone's there, and not at all on a node without registry access.
//
// Usage: npm run build && node scripts/pack-node.mjs [OUTPUT_DIR]   (default: the current directory)
// Prints the tarball's path. Install: npm install -g --prefix DIR ./flotilla-<version>.tgz
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const output = resolve(process.argv[2] ?? '.');
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// Private workspaces (the test harness) are not part of what an operator installs.
const workspaces = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter(({ manifest }) => !manifest.private);
const ours = new Set(workspaces.map(({ manifest }) => manifest.name));

const work = mkdtempSync(join(tmpdir(), 'flotilla-pack-'));
try {
  const staging = join(work, 'flotilla');
  const bin = {};
  const dependencies = {};
  for (const { dir, manifest } of workspaces) {
    // What `npm publish` would ship of the package (its "files"), unpacked where the bundle expects it.
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop();
    const target = join(staging, 'node_modules', ...manifest.name.split('/'));
    mkdirSync(target, { recursive: true });
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', target, '--strip-components=1']);
    for (const [name, path] of Object.entries(manifest.bin ?? {})) bin[name] = `node_modules/${manifest.name}/${path}`;
    for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
      if (ours.has(name)) continue;
      if (dependencies[name] && dependencies[name] !== range) throw new Error(`${name}: ${manifest.name} wants ${range}, another package ${dependencies[name]}; make them agree`);
      dependencies[name] = range;
    }
  }
  const manifest = (extra) => ({
    name: 'flotilla',
    version: rootPackage.version,
    description: rootPackage.description,
    // Installed from its tarball only: never published under a name someone else may hold.
    private: true,
    type: 'module',
    engines: rootPackage.engines,
    bin,
    ...extra,
  });
  // The third-party dependencies first (npm install removes what it did not put there), then ours beside them.
  const ourFiles = join(work, 'ours');
  execFileSync('mv', [join(staging, 'node_modules'), ourFiles]);
  writeFileSync(join(staging, 'package.json'), `${JSON.stringify(manifest({ dependencies }), null, 2)}\n`);
  execFileSync('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock'], { cwd: staging, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('cp', ['-a', join(ourFiles, '@flotilla'), join(staging, 'node_modules', '@flotilla')]);
  for (const name of ours) dependencies[name] = rootPackage.version;
  const sorted = Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(join(staging, 'package.json'), `${JSON.stringify(manifest({ dependencies: sorted, bundleDependencies: Object.keys(sorted) }), null, 2)}\n`);
  writeFileSync(join(staging, 'README.md'), 'Flotilla: every binary of one release. Installing on a node: docs/operations.md, "Adding a node".\n');
  mkdirSync(output, { recursive: true });
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', output], { cwd: staging, encoding: 'utf8' }).trim().split('\n').pop();
  process.stdout.write(`${join(output, packed)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
