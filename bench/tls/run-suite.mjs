// Bench only: runs one benchmark suite in this process and prints its figures as JSON on stdout,
// so that bench/suites/70-tls.mjs can run the same suite with TLS and on plain sockets.
import { cleanupAll } from '../lib.mjs';

const [file, quick] = process.argv.slice(2);
const suite = await import(new URL(`../suites/${file}`, import.meta.url));
try {
  const figures = await suite.run({ quick: quick === 'quick', log: (line) => process.stderr.write(`     ${line}\n`) });
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  await cleanupAll();
}
