// Backup and restore (issue 5): pack-domain and unpack-domain against Info-ZIP `zip -r` (at the
// same deflate level) and `unzip` on the same domain (many small files, a few large ones, some
// random, some compressible); on a real npm tree (thousands of small files, links); the cost of
// encryption; peak memory of both on a larger domain. Real binaries, offline.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, createDomain, measurePeak as measureNow, median, root, tempDir } from '../lib.mjs';

/**
 * measurePeak once the disk has settled: the files earlier steps wrote (and the directories they
 * removed) are written back first, so that their write-back, which grew from 0.4 to 6 s of kernel
 * time over three unpack rounds of one archive, is not billed to whichever command runs next.
 */
function measurePeak(...args) {
  execFileSync('sync');
  return measureNow(...args);
}

export const title = 'backup and restore';

const MB = 1e6;
const MiB = 2 ** 20;

/** The deflate level pack-domain uses (compress-file.ts); zip is given the same. */
function packLevel() {
  const source = readFileSync(join(root, 'packages', 'pack-domain', 'src', 'compress-file.ts'), 'utf8');
  const match = /DEFLATE_LEVEL = (\d)/.exec(source);
  return match ? Number(match[1]) : 6;
}

/** Text that deflate shrinks about 3-4x, like logs or sources: varied words and numbers. */
function compressible(bytes, seed) {
  const words = ['server', 'domain', 'cluster', 'request', 'const', 'return', 'function', 'generation', 'import', 'export', 'managed', 'error', 'info', 'cache', 'sync', 'value'];
  let state = seed * 2654435761;
  const next = () => ((state = (Math.imul(state ^ (state >>> 13), 1103515245) + 12345) | 0) >>> 0);
  const parts = [];
  let size = 0;
  while (size < bytes) {
    const line = `${new Date(1_780_000_000_000 + next() % 1e9).toISOString()} ${words[next() % 16]} ${words[next() % 16]}=${next() % 100000} ${words[next() % 16]}(${(next() % 1e6).toString(36)})\n`;
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

/** Writes the application files of a test domain; returns their total size. */
function fillDomain(dir, { small, random, text }) {
  let total = 0;
  const base = join(dir, 'apps', 'data');
  const chunk = compressible(4 * MiB, 7);
  for (let i = 0; i < small; i++) {
    const sub = join(base, 'src', `m${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    const size = 200 + ((i * 7919) % 4800);
    const offset = (i * 104729) % (chunk.length - size);
    writeFileSync(join(sub, `f${i}.js`), chunk.subarray(offset, offset + size));
    total += size;
  }
  mkdirSync(join(base, 'blobs'), { recursive: true });
  for (const [i, size] of random.entries()) {
    writeFileSync(join(base, 'blobs', `random-${i}.bin`), randomBytes(size));
    total += size;
  }
  for (const [i, size] of text.entries()) {
    // Large compressible files: a few MiB of fresh text repeated (deflate's window is 32 KiB).
    const piece = compressible(Math.min(size, 8 * MiB), 100 + i);
    const parts = [];
    for (let written = 0; written < size; written += piece.length) parts.push(piece.subarray(0, Math.min(piece.length, size - written)));
    writeFileSync(join(base, 'blobs', `text-${i}.log`), Buffer.concat(parts));
    total += size;
  }
  return total;
}

const node = (binary, args) => [process.execPath, [bin(binary), ...args]];

/**
 * Packages of the repository's own node_modules (installed by `npm ci` from the registry): a real
 * npm tree of about 2 600 files and 20 MB, sources, maps, typings and package.json files, the
 * shape a deployed Node application has. Copied with its links as they are.
 */
const NPM_PACKAGES = ['@peculiar', '@opentelemetry', '@noble', 'undici', 'pino', 'tsyringe', 'hdr-histogram-js', 'execa', 'yargs', 'semver', 'uuid', 'bluebird'];

function copyNpmTree(into) {
  for (const name of NPM_PACKAGES) {
    const from = join(root, 'node_modules', name);
    if (!existsSync(from)) continue;
    cpSync(from, join(into, name), { recursive: true, verbatimSymlinks: true });
  }
  const files = Number(execFileSync('sh', ['-c', `find "${into}" -type f | wc -l`], { encoding: 'utf8' }).trim());
  const bytes = Number(execFileSync('du', ['-sb', into], { encoding: 'utf8' }).split(/\s/)[0]);
  return { files, bytes };
}

/** An age recipient (public key) made with Debian's age-keygen, or undefined when it is not installed. */
function ageRecipient(dir) {
  const identity = join(dir, 'identity.txt');
  try {
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    return { identity, recipient: execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim() };
  } catch {
    return undefined;
  }
}

export async function run({ quick, log }) {
  const figures = [];
  const level = packLevel();
  const rounds = quick ? 1 : 3;

  // Throughput, against zip -r and unzip on the same files.
  {
    const home = tempDir('backup');
    const domain = await createDomain(home, 'bk', 1);
    const layout = quick
      ? { small: 6_000, random: [25 * MB], text: [20 * MB] }
      : { small: 20_000, random: [40 * MB, 40 * MB], text: [35 * MB, 35 * MB] };
    const content = fillDomain(domain.dir, layout);
    log(`domain of ${(content / MB).toFixed(0)} MB: ${layout.small} small files, ${layout.random.length} random and ${layout.text.length} compressible large ones; zip -${level} like pack-domain`);
    const out = tempDir('backup-out');
    const runs = { pack: [], zip: [], unpack: [], unzip: [], unzipSync: [], packPeak: [], zipPeak: [], unpackPeak: [], unzipPeak: [] };
    let packed;
    let zipped;
    for (let round = 0; round < rounds; round++) {
      packed = join(out, `pack-${round}.zip`);
      const pack = await measurePeak(...node('pack-domain', ['bk', '-f', packed, '--home', home, '--json']));
      runs.pack.push(pack.ms);
      runs.packPeak.push(pack.peakKiB);
      zipped = join(out, `zip-${round}.zip`);
      const zip = await measurePeak('zip', ['-r', `-${level}`, '-q', zipped, 'config', 'apps'], { cwd: domain.dir });
      runs.zip.push(zip.ms);
      runs.zipPeak.push(zip.peakKiB);

      const restoreHome = join(out, `restore-${round}`);
      const unpack = await measurePeak(...node('unpack-domain', ['-f', packed, '--home', restoreHome, '--yes', '--json']));
      runs.unpack.push(unpack.ms);
      runs.unpackPeak.push(unpack.peakKiB);
      const unzipDir = join(out, `unzip-${round}`);
      const unzip = await measurePeak('unzip', ['-q', zipped, '-d', unzipDir]);
      runs.unzip.push(unzip.ms);
      runs.unzipPeak.push(unzip.peakKiB);
      // unpack-domain makes every file durable before the domain counts as restored; unzip does not.
      const unzipSyncDir = join(out, `unzip-sync-${round}`);
      const unzipSync = await measurePeak('sh', ['-c', `unzip -q "${zipped}" -d "${unzipSyncDir}" && sync`]);
      runs.unzipSync.push(unzipSync.ms);
      rmSync(restoreHome, { recursive: true, force: true });
      rmSync(unzipDir, { recursive: true, force: true });
      rmSync(unzipSyncDir, { recursive: true, force: true });
      if (round < rounds - 1) {
        rmSync(packed);
        rmSync(zipped);
      }
    }
    const packBytes = statSync(packed).size;
    const zipBytes = statSync(zipped).size;
    log(`archives: pack-domain ${(packBytes / MB).toFixed(1)} MB, zip ${(zipBytes / MB).toFixed(1)} MB`);
    for (const [what, ms] of Object.entries(runs).filter(([k]) => !k.endsWith('Peak'))) log(`${what}: ${ms.map((m) => Math.round(m)).join(', ')} ms`);
    const rate = (ms) => content / MB / (median(ms) / 1000);
    const packRate = rate(runs.pack);
    const zipRate = rate(runs.zip);
    const unpackRate = rate(runs.unpack);
    const unzipRate = rate(runs.unzip);
    const mbs = (content / MB).toFixed(0);
    const runsLabel = rounds > 1 ? `median of ${rounds}` : 'one run';
    figures.push({ name: `pack-domain, ${mbs} MB domain (${runsLabel})`, value: packRate, unit: 'MB/s', peer: { name: `zip -r -${level}`, value: zipRate } });
    figures.push({ name: 'pack-domain speed relative to zip -r', value: packRate / zipRate, unit: 'x', target: '>= 1x', meets: packRate >= zipRate });
    figures.push({ name: `unpack-domain, ${mbs} MB domain (${runsLabel})`, value: unpackRate, unit: 'MB/s', peer: { name: 'unzip', value: unzipRate } });
    figures.push({ name: 'unpack-domain speed relative to unzip', value: unpackRate / unzipRate, unit: 'x', target: '>= 0.8x', meets: unpackRate / unzipRate >= 0.8 });
    figures.push({ name: 'unpack-domain speed relative to unzip && sync (durable, like ours)', value: unpackRate / rate(runs.unzipSync), unit: 'x' });
    figures.push({ name: 'archive size relative to zip -r', value: packBytes / zipBytes, unit: 'x' });
    // Memory grows with the number of files more than with their size: this domain has the most.
    const packPeak = (Math.max(...runs.packPeak) * 1024) / MB;
    const unpackPeak = (Math.max(...runs.unpackPeak) * 1024) / MB;
    figures.push({ name: `peak RSS of pack-domain, ${mbs} MB domain (${layout.small} small files)`, value: packPeak, unit: 'MB', target: '< 200 MB', meets: packPeak < 200, peer: { name: 'zip -r', value: (Math.max(...runs.zipPeak) * 1024) / MB } });
    figures.push({ name: `peak RSS of unpack-domain, ${mbs} MB domain (${layout.small} small files)`, value: unpackPeak, unit: 'MB', target: '< 200 MB', meets: unpackPeak < 200, peer: { name: 'unzip', value: (Math.max(...runs.unzipPeak) * 1024) / MB } });
    rmSync(out, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }

  // A real npm tree (many small files, the shape most applications have): pack and unpack against
  // zip -r and unzip, and an encrypted pack and restore against the plain ones.
  {
    const home = tempDir('backup-npm');
    const domain = await createDomain(home, 'npm', 1);
    const tree = copyNpmTree(join(domain.dir, 'apps', 'web', 'node_modules'));
    log(`npm tree: ${tree.files} files, ${(tree.bytes / MB).toFixed(1)} MB (packages of this repository's node_modules)`);
    const out = tempDir('backup-npm-out');
    const age = ageRecipient(out);
    const npmRounds = quick ? 3 : 5;
    const runs = { pack: [], zip: [], unpack: [], unzip: [], packAge: [], unpackAge: [] };
    for (let round = 0; round < npmRounds; round++) {
      const packed = join(out, `pack-${round}.zip`);
      runs.pack.push((await measurePeak(...node('pack-domain', ['npm', '-f', packed, '--home', home, '--json']))).ms);
      const zipped = join(out, `zip-${round}.zip`);
      runs.zip.push((await measurePeak('zip', ['-r', `-${level}`, '-q', zipped, 'config', 'apps'], { cwd: domain.dir })).ms);
      runs.unpack.push((await measurePeak(...node('unpack-domain', ['-f', packed, '--home', join(out, `restore-${round}`), '--yes', '--json']))).ms);
      runs.unzip.push((await measurePeak('unzip', ['-q', zipped, '-d', join(out, `unzip-${round}`)])).ms);
      if (age) {
        const sealed = join(out, `pack-${round}.zip.age`);
        runs.packAge.push((await measurePeak(...node('pack-domain', ['npm', '-f', sealed, '--recipient', age.recipient, '--home', home, '--json']))).ms);
        runs.unpackAge.push((await measurePeak(...node('unpack-domain', ['-f', sealed, '--identity', age.identity, '--home', join(out, `restore-age-${round}`), '--yes', '--json']))).ms);
        rmSync(sealed);
      }
      for (const dir of [`restore-${round}`, `restore-age-${round}`, `unzip-${round}`]) rmSync(join(out, dir), { recursive: true, force: true });
      rmSync(packed);
      rmSync(zipped);
    }
    for (const [what, ms] of Object.entries(runs)) if (ms.length) log(`npm tree ${what}: ${ms.map((m) => Math.round(m)).join(', ')} ms`);
    const label = `npm tree of ${tree.files} files, ${(tree.bytes / MB).toFixed(0)} MB (median of ${npmRounds})`;
    const speed = (ms) => tree.bytes / MB / (median(ms) / 1000);
    figures.push({ name: `pack-domain, ${label}`, value: speed(runs.pack), unit: 'MB/s', peer: { name: `zip -r -${level}`, value: speed(runs.zip) } });
    figures.push({ name: 'pack-domain speed relative to zip -r, npm tree', value: median(runs.zip) / median(runs.pack), unit: 'x', target: '>= 1x', meets: median(runs.pack) <= median(runs.zip) });
    figures.push({ name: `unpack-domain, ${label}`, value: speed(runs.unpack), unit: 'MB/s', peer: { name: 'unzip', value: speed(runs.unzip) } });
    figures.push({ name: 'unpack-domain speed relative to unzip, npm tree', value: median(runs.unzip) / median(runs.unpack), unit: 'x' });
    if (age) {
      figures.push({ name: 'encrypted pack-domain speed relative to plain, npm tree', value: median(runs.pack) / median(runs.packAge), unit: 'x', target: '>= 0.9x', meets: median(runs.pack) / median(runs.packAge) >= 0.9 });
      figures.push({ name: 'encrypted unpack-domain speed relative to plain, npm tree', value: median(runs.unpack) / median(runs.unpackAge), unit: 'x' });
    } else log('age-keygen is not installed: the cost of encryption is not measured');
    rmSync(out, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }

  // Peak memory on a larger domain.
  {
    const home = tempDir('backup-big');
    const domain = await createDomain(home, 'big', 1);
    const big = quick ? 64 * MiB : 128 * MiB;
    const count = quick ? 3 : 8;
    const layout = { small: 2_000, random: Array(count).fill(big), text: Array(count).fill(big) };
    const content = fillDomain(domain.dir, layout);
    const size = content >= 2 ** 30 ? `${(content / 2 ** 30).toFixed(1)} GiB` : `${Math.round(content / MB)} MB`;
    log(`larger domain of ${size}: ${layout.small} small files and ${2 * count} files of ${big / MiB} MiB`);
    const out = tempDir('backup-big-out');
    const archive = join(out, 'big.zip');
    const pack = await measurePeak(...node('pack-domain', ['big', '-f', archive, '--home', home, '--json']));
    const unpack = await measurePeak(...node('unpack-domain', ['-f', archive, '--home', join(out, 'restore'), '--yes', '--json']));
    log(`pack-domain ${Math.round(pack.ms)} ms (${(content / MB / (pack.ms / 1000)).toFixed(0)} MB/s), unpack-domain ${Math.round(unpack.ms)} ms (${(content / MB / (unpack.ms / 1000)).toFixed(0)} MB/s)`);
    const packPeak = (pack.peakKiB * 1024) / MB;
    const unpackPeak = (unpack.peakKiB * 1024) / MB;
    figures.push({ name: `peak RSS of pack-domain, ${size} domain (${layout.small} small files)`, value: packPeak, unit: 'MB', target: '< 200 MB', meets: packPeak < 200 });
    figures.push({ name: `peak RSS of unpack-domain, ${size} domain (${layout.small} small files)`, value: unpackPeak, unit: 'MB', target: '< 200 MB', meets: unpackPeak < 200 });
    rmSync(out, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
  return figures;
}
