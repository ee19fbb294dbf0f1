#!/usr/bin/env node
// npm run bench [-- --quick] [-- --only SUITE]: runs every benchmark suite, writes
// bench/results/latest.json and renders BENCHMARKS.md (each figure beside its target and peers).
// With --only, the suites run replace their own figures in latest.json and the others are kept,
// so one suite can be measured again without losing the last full run (the header says which).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { cleanupAll, root } from './lib.mjs';

const quick = process.argv.includes('--quick');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex > 0 ? process.argv[onlyIndex + 1] : undefined;
const suitesDir = join(root, 'bench', 'suites');
const suites = readdirSync(suitesDir).filter((f) => f.endsWith('.mjs')).sort().filter((f) => !only || f.startsWith(only));

const results = [];
for (const file of suites) {
  const suite = await import(join(suitesDir, file));
  process.stderr.write(`\n== ${suite.title} (${file})\n`);
  try {
    const figures = await suite.run({ quick, log: (line) => process.stderr.write(`   ${line}\n`) });
    for (const figure of figures) {
      results.push({ suite: suite.title, ...figure });
      process.stderr.write(`   ${figure.name}: ${format(figure.value, figure.unit)}${figure.peer ? ` (${figure.peer.name}: ${format(figure.peer.value, figure.unit)})` : ''}\n`);
    }
  } catch (error) {
    results.push({ suite: suite.title, name: 'suite failed', value: null, unit: '', error: String(error?.stack ?? error) });
    process.stderr.write(`   FAILED: ${error?.stack ?? error}\n`);
  } finally {
    await cleanupAll();
    // One suite's writeback (gigabytes, after the backups) must not slow the next one down.
    execFileSync('sync');
  }
}

function format(value, unit) {
  if (value === null || value === undefined) return 'n/a';
  const rounded = Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
  return `${rounded} ${unit}`.trim();
}

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const latestFile = join(root, 'bench', 'results', 'latest.json');
const date = new Date().toISOString();
let report = { date, quick, machine, results };
if (only && existsSync(latestFile)) {
  // The suites just run take the place of their earlier figures; every other suite's are kept.
  const previous = JSON.parse(readFileSync(latestFile, 'utf8'));
  const rerun = new Set(results.map((r) => r.suite));
  const merged = [];
  for (const r of previous.results) {
    if (!rerun.has(r.suite)) merged.push(r);
    else if (!merged.some((m) => m.suite === r.suite)) merged.push(...results.filter((n) => n.suite === r.suite));
  }
  merged.push(...results.filter((n) => !merged.includes(n) && !previous.results.some((r) => r.suite === n.suite)));
  report = { ...previous, results: merged, rerun: [...(previous.rerun ?? []), { date, quick, suites: [...rerun] }] };
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(latestFile, `${JSON.stringify(report, null, 2)}\n`);

const rows = report.results.map((r) => {
  const verdict = r.error ? 'failed' : r.target ? (r.meets === undefined ? '' : r.meets ? 'met' : 'missed') : '';
  const peer = r.peer ? `${r.peer.name}: ${format(r.peer.value, r.unit)}` : (r.peerNote ?? '');
  return `| ${r.suite} | ${r.name} | ${r.error ? 'failed' : format(r.value, r.unit)} | ${r.target ?? ''} | ${verdict} | ${peer} |`;
});
const markdown = `# Benchmarks

Measured by \`npm run bench${report.quick ? ' -- --quick' : ''}\` on ${report.date.slice(0, 10)}: ${report.machine.cpus} cores (${report.machine.cpu}), ${report.machine.memoryGiB} GiB, Node ${report.machine.node}.${(report.rerun ?? []).map((r) => `\nMeasured again with \`--only\`${r.quick ? ' (quick)' : ''} on ${r.date.slice(0, 10)}: ${r.suites.join(', ')}.`).join('')}
Peers measured in the same run where they run here; quoted otherwise. Raw figures: \`bench/results/latest.json\`.

| suite | figure | value | target | | peers |
|---|---|---|---|---|---|
${rows.join('\n')}
`;
writeFileSync(join(root, 'BENCHMARKS.md'), markdown);
process.stdout.write(markdown);
