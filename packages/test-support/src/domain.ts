/**
 * Test domains with real processes: a domain on free loopback ports, and MASTER / managed server
 * processes started in the foreground (so the test runner owns and ends them) that are ready when
 * the helpers return.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import { expect } from 'vitest';
import { run, start, waitFor } from './index.js';

/** Ports the kernel says are free now: good enough for a test that binds them right away. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import('node:net').Server>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export interface TestDomain {
  home: string;
  name: string;
  dir: string;
  configFile: string;
  keyFile: string;
  masterPort: number;
  servers: Record<string, { port: number; http: number }>;
  autoRestart?: boolean;
}

/**
 * A domain whose MASTER and servers all listen on free 127.0.0.1 ports, all in cluster1. Servers
 * have `autoRestart: false` unless asked: tests that kill a server mean it to stay dead.
 */
export async function createTestDomain(home: string, name: string, servers: string[], extra = '', options: { autoRestart?: boolean } = {}): Promise<TestDomain> {
  const created = await run('master', ['create-domain', name, '--home', home]);
  expect(created.stderr).toBe('');
  const ports = await freePorts(1 + servers.length * 2);
  const dir = join(home, 'domains', name);
  const domain: TestDomain = {
    home,
    name,
    dir,
    configFile: join(dir, 'config', 'domain.json5'),
    keyFile: join(dir, 'config', 'security', 'domain.key'),
    masterPort: ports[0]!,
    servers: Object.fromEntries(servers.map((server, i) => [server, { port: ports[1 + 2 * i]!, http: ports[2 + 2 * i]! }])),
  };
  domain.autoRestart = options.autoRestart ?? false;
  await writeFile(domain.configFile, renderTestConfig(domain, extra));
  return domain;
}

export function renderTestConfig(domain: TestDomain, extra = ''): string {
  const servers = Object.entries(domain.servers)
    .map(([server, { port, http }]) => `    ${server}: { node: "node1", address: "127.0.0.1", port: ${port}, http: ${http}, autoRestart: ${domain.autoRestart} },`)
    .join('\n');
  const names = Object.keys(domain.servers).map((server) => `"${server}"`).join(', ');
  return `{
  name: "${domain.name}",
  master: { name: "adminServer", node: "node1", address: "127.0.0.1", port: ${domain.masterPort} },
  nodes: { node1: { host: "127.0.0.1" } },
  servers: {
${servers}
  },
  clusters: ${names ? `{ cluster1: { servers: [${names}] } }` : '{}'},
${extra}}
`;
}

/** Everything a process said on stderr so far (logs are JSON lines there in the foreground). */
function collect(child: ResultPromise): () => string {
  let said = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    said += chunk.toString();
  });
  return () => said;
}

export interface RunningProcess {
  child: ResultPromise;
  pid: number;
  stderr: () => string;
}

async function startAndWait(args: string[], readyCode: string, what: string, env?: Record<string, string>): Promise<RunningProcess> {
  const binary = args[0] as 'master' | 'managed';
  const child = start(binary, args.slice(1), { env });
  const stderr = collect(child);
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  await waitFor(`${what} to serve`, () => {
    if (exited) throw new Error(`${what} exited: ${stderr()}`);
    return stderr().includes(`[${readyCode}]`);
  });
  return { child, pid: child.pid!, stderr };
}

export function startMaster(domain: TestDomain): Promise<RunningProcess> {
  return startAndWait(['master', 'start', domain.name, '--home', domain.home], 'MA-0002', `MASTER of ${domain.name}`);
}

export function startManaged(home: string, domain: string, server: string, extra: string[] = [], env?: Record<string, string>): Promise<RunningProcess> {
  return startAndWait(['managed', 'start', domain, server, '--home', home, ...extra], 'MS-0002', `server ${server}`, env);
}

export async function managedStatus(home: string, domain: string, server: string): Promise<Record<string, any>> {
  const result = await run('managed', ['status', domain, server, '--home', home, '--json']);
  if (result.exitCode !== 0) throw new Error(`managed status exited ${result.exitCode}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

export async function masterStatus(domain: TestDomain): Promise<Record<string, any>> {
  const result = await run('master', ['status', domain.name, '--home', domain.home, '--json']);
  if (result.exitCode !== 0) throw new Error(`master status exited ${result.exitCode}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

export async function readKey(domain: TestDomain): Promise<string> {
  return (await readFile(domain.keyFile, 'utf8')).trim();
}
