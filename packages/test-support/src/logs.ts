import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './index.js';
import { createTestDomain, type TestDomain } from './domain.js';

/** One log line as the servers write an application's: its ISO 8601 UTC time with milliseconds first. */
export const STAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

/** A domain with server1 running `echo` (packages/test-support/apps/log-echo) under /echo. */
export async function echoLogDomain(home: string, name: string, extra = ''): Promise<TestDomain> {
  const domain = await createTestDomain(home, name, ['server1'], `  applications: { echo: { context: "/echo", targets: ["server1"] } },\n${extra}`);
  await cp(join(repoRoot, 'packages', 'test-support', 'apps', 'log-echo'), join(domain.dir, 'apps', 'echo'), { recursive: true });
  return domain;
}

export function logsDir(domain: TestDomain, server: string): string {
  return join(domain.dir, 'servers', server, 'logs');
}

/** A file's text, empty while it does not exist. */
export const readLog = (file: string) => readFile(file, 'utf8').catch(() => '');

/** A request to the echo application on server1; its answer's text. */
export async function echo(domain: TestDomain, path: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${domain.servers.server1!.http}/echo${path}`);
  return response.text();
}
