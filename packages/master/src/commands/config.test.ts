import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, tempHome } from '@flotilla/test-support';

/**
 * The corpus of invalid configurations: each case is the valid BASE with one mistake. `@@` marks
 * the exact place the error must point at (removed before the file is written); `says` lists the
 * words the message must hold.
 */
const BASE = `{
  name: "d1",
  master: { name: "adminServer", node: "node1", address: "0.0.0.0", port: 9736 },
  nodes: {
    node1: { host: "127.0.0.1" },
    node2: { host: "10.0.0.12", exec: "ssh -o BatchMode=yes {host}" },
  },
  servers: {
    server1: { node: "node1", address: "127.0.0.1", port: 9746, http: 8088, autoRestart: true },
    server2: { node: "node2", address: "10.0.0.12", port: 9746, http: 8088 },
  },
  clusters: { cluster1: { servers: ["server1", "server2"] } },
  heartbeat: { mode: "multicast", group: "239.192.0.36", port: 3030 },
  backup: { onBoot: false, dir: "backups", node: null, keep: 10 },
  applications: { hello: { context: "/hello", targets: ["cluster1"] } },
}
`;

interface Case {
  name: string;
  from: string;
  to: string;
  /** A second change the case needs, when the mistake is reported away from the first. */
  also?: [string, string];
  setting: string;
  says: string[];
}

const cases: Case[] = [
  // syntax
  { name: 'missing value', from: 'port: 9736 }', to: 'port: @@, }', setting: '(syntax)', says: ["invalid character ','"] },
  { name: 'unterminated string', from: 'host: "127.0.0.1" }', to: 'host: "127.0.0.1 }@@\n', setting: '(syntax)', says: ['invalid'] },
  { name: 'missing closing brace', from: '\n}\n', to: '\n@@', setting: '(syntax)', says: ['invalid end of input'] },
  { name: 'garbage after the document', from: '\n}\n', to: '\n}\n@@x\n', setting: '(syntax)', says: ["invalid character 'x'"] },
  { name: 'stray character', from: 'keep: 10 }', to: 'keep: @@#10 }', setting: '(syntax)', says: ["invalid character '#'"] },
  // wrong types
  { name: 'port as a string', from: 'port: 9736', to: 'port: @@"9736"', setting: 'master.port', says: ['expected a number', 'string "9736"'] },
  { name: 'boolean as a string', from: 'autoRestart: true', to: 'autoRestart: @@"yes"', setting: 'servers.server1.autoRestart', says: ['expected true or false', '"yes"'] },
  { name: 'nodes as an array', from: 'nodes: {\n    node1: { host: "127.0.0.1" },\n    node2: { host: "10.0.0.12", exec: "ssh -o BatchMode=yes {host}" },\n  }', to: 'nodes: @@["node1"]', setting: 'nodes', says: ['expected an object', 'an array'] },
  { name: 'cluster servers as a string', from: 'servers: ["server1", "server2"]', to: 'servers: @@"server1"', setting: 'clusters.cluster1.servers', says: ['expected an array', '"server1"'] },
  { name: 'name as a number', from: 'name: "d1"', to: 'name: @@12', setting: 'name', says: ['expected a string', 'number 12'] },
  { name: 'fractional keep', from: 'keep: 10', to: 'keep: @@1.5', setting: 'backup.keep', says: ['whole number from 1 to 1000', '1.5'] },
  // unknown keys, with the nearest known key
  { name: 'misspelt top-level key', from: '  clusters:', to: '  @@cluster: {},\n  clusters:', setting: 'cluster', says: ['unknown key "cluster"', 'did you mean "clusters"', 'allowed:'] },
  { name: 'misspelt server key', from: 'address: "127.0.0.1", port: 9746', to: '@@adress: "127.0.0.1", port: 9746', setting: 'servers.server1.adress', says: ['unknown key "adress"', 'did you mean "address"'] },
  { name: 'misspelt master key', from: 'port: 9736 }', to: '@@prot: 9736 }', setting: 'master.prot', says: ['unknown key "prot"', 'did you mean "port"'] },
  { name: 'misspelt heartbeat key', from: 'group: "239.192.0.36"', to: '@@grup: "239.192.0.36"', setting: 'heartbeat.grup', says: ['did you mean "group"'] },
  { name: 'misspelt node key', from: 'node1: { host: "127.0.0.1" }', to: 'node1: { @@hots: "127.0.0.1" }', setting: 'nodes.node1.hots', says: ['did you mean "host"'] },
  // missing settings
  { name: 'master without a node', from: 'master: { name: "adminServer", node: "node1", ', to: 'master: @@{ name: "adminServer", ', setting: 'master.node', says: ['is required', 'a string'] },
  { name: 'server without an http port', from: 'server2: { node: "node2", address: "10.0.0.12", port: 9746, http: 8088 }', to: 'server2: @@{ node: "node2", address: "10.0.0.12", port: 9746 }', setting: 'servers.server2.http', says: ['is required', 'a number'] },
  // dangling references
  { name: 'master on an unknown node', from: 'node: "node1", address: "0.0.0.0"', to: 'node: @@"node9", address: "0.0.0.0"', setting: 'master.node', says: ['node "node9" is not defined', 'defined: node1, node2'] },
  { name: 'server on an unknown node', from: 'node: "node2", address: "10.0.0.12"', to: 'node: @@"node9", address: "10.0.0.12"', setting: 'servers.server2.node', says: ['node "node9" is not defined (defined: node1, node2)'] },
  { name: 'cluster of an unknown server', from: '["server1", "server2"]', to: '["server1", @@"ghost"]', setting: 'clusters.cluster1.servers[1]', says: ['server "ghost" is not defined', 'server1, server2'] },
  { name: 'application targeting nothing', from: 'targets: ["cluster1"]', to: 'targets: [@@"nowhere"]', setting: 'applications.hello.targets[0]', says: ['target "nowhere" is neither a server nor a cluster'] },
  { name: 'backup on an unknown node', from: 'node: null', to: 'node: @@"node7"', setting: 'backup.node', says: ['node "node7" is not defined'] },
  // listener clashes
  { name: 'two servers on one address:port', from: 'node: "node2", address: "10.0.0.12", port: 9746', to: 'node: "node1", address: "127.0.0.1", port: @@9746', setting: 'servers.server2.port', says: ['127.0.0.1:9746 on node node1 clashes with servers.server1.port'] },
  { name: 'http port on the MASTER\'s wildcard port', from: 'http: 8088, autoRestart', to: 'http: @@9736, autoRestart', setting: 'servers.server1.http', says: ['clashes with master.port', '0.0.0.0:9736'] },
  { name: 'management and http port the same', from: 'port: 9746, http: 8088, autoRestart', to: 'port: 9746, http: @@9746, autoRestart', setting: 'servers.server1.http', says: ['clashes with servers.server1.port'] },
  // bad names
  { name: 'server name with a space', from: '    server2: {', to: '    @@"server 2": {', setting: 'servers["server 2"]', says: ['name "server 2" must be 1 to 64 characters'] },
  { name: 'cluster name with a slash', from: 'clusters: { cluster1:', to: 'clusters: { @@"a/b":', setting: 'clusters["a/b"]', says: ['name "a/b"', 'A-Z a-z 0-9'] },
  { name: 'node name too long', from: '    node1: { host', to: `    @@${'n'.repeat(65)}: { host`, setting: `nodes.${'n'.repeat(65)}`, says: ['must be 1 to 64 characters'] },
  { name: 'domain name ".."', from: 'name: "d1"', to: 'name: @@".."', setting: 'name', says: ['not "." or ".."'] },
  { name: 'invalid address', from: 'address: "10.0.0.12", port', to: 'address: @@"300.1.1.1", port', setting: 'servers.server2.address', says: ['IPv4 or IPv6 address or a host name'] },
  // out of range
  { name: 'port zero', from: 'port: 3030', to: 'port: @@0', setting: 'heartbeat.port', says: ['port from 1 to 65535', 'number 0'] },
  { name: 'port above 65535', from: 'port: 9736', to: 'port: @@70000', setting: 'master.port', says: ['port from 1 to 65535', '70000'] },
  { name: 'ttl zero', from: 'port: 3030 }', to: 'port: 3030, ttl: @@0 }', setting: 'heartbeat.ttl', says: ['from 1 to 255'] },
  { name: 'unicast group address', from: 'group: "239.192.0.36"', to: 'group: @@"10.1.1.1"', setting: 'heartbeat.group', says: ['IPv4 multicast address'] },
  { name: 'unknown heartbeat mode', from: 'mode: "multicast"', to: 'mode: @@"broadcast"', setting: 'heartbeat.mode', says: ['"multicast" or "unicast"', '"broadcast"'] },
  // things that hang together badly
  { name: 'duplicate key', from: '  clusters:', to: '  @@servers: {},\n  clusters:', setting: 'servers', says: ['duplicate key (first set at line 8)'] },
  { name: 'server in two clusters', from: 'cluster1: { servers: ["server1", "server2"] } }', to: 'cluster1: { servers: ["server1", "server2"] }, c2: { servers: [@@"server1"] } }', setting: 'clusters.c2.servers[0]', says: ['already in cluster "cluster1"'] },
  { name: 'cluster named like a server', from: 'cluster1: { servers:', to: '@@server1: { servers:', setting: 'clusters.server1', says: ['has the name of a server'] },
  { name: 'name differs from the directory', from: 'name: "d1"', to: 'name: @@"other"', setting: 'name', says: ['does not match its directory "d1"'] },
  { name: 'context without a slash', from: 'context: "/hello"', to: 'context: @@"hello"', setting: 'applications.hello.context', says: ['must be a path that starts with "/"'] },
  { name: 'two applications on one context', from: 'targets: ["cluster1"] } }', to: 'targets: ["cluster1"] }, hi: { context: @@"/hello", targets: ["server2"] } }', setting: 'applications.hi.context', says: ['context "/hello" is already used by application "hello" on server "server2"'] },
  { name: 'unicast heartbeats on one address:port', from: 'mode: "multicast"', to: 'mode: "unicast"', also: ['    server1: {', '    @@server1: {'], setting: 'servers.server1', says: ['unicast heartbeats of server1 and adminServer would share 127.0.0.1:3030', 'heartbeatPort'] },
  { name: 'probe timeout not below the default probe period', from: 'port: 3030 }', to: 'port: 3030, timings: { probeTimeoutMs: @@300 } }', setting: 'heartbeat.timings.probeTimeoutMs', says: ['must be below probeIntervalMs (200, its default', 'number 300'] },
  { name: 'probe period not above the default probe timeout', from: 'port: 3030 }', to: 'port: 3030, timings: { probeIntervalMs: @@50 } }', setting: 'heartbeat.timings.probeIntervalMs', says: ['must be above probeTimeoutMs (50, its default', 'number 50'] },
  { name: 'probe timeout and period both set, the wrong way round', from: 'port: 3030 }', to: 'port: 3030, timings: { probeIntervalMs: 150, probeTimeoutMs: @@150 } }', setting: 'heartbeat.timings.probeTimeoutMs', says: ['must be below probeIntervalMs (150; the indirect probes need the rest of the probe period)'] },
  { name: 'fractional count of helpers', from: 'port: 3030 }', to: 'port: 3030, timings: { indirectChecks: @@2.5 } }', setting: 'heartbeat.timings.indirectChecks', says: ['whole number', 'number 2.5'] },
  { name: 'unknown heartbeat timing', from: 'port: 3030 }', to: 'port: 3030, timings: { @@probeMs: 5 } }', setting: 'heartbeat.timings.probeMs', says: ['unknown key "probeMs"', 'did you mean "probeTimeoutMs"'] },
  { name: 'reattach switch not a boolean', from: '  applications:', to: '  reattach: { applyApplications: @@"no" },\n  applications:', setting: 'reattach.applyApplications', says: ['expected true or false', '"no"'] },
  { name: 'restart attempts out of range', from: '  applications:', to: '  restart: { attempts: @@0 },\n  applications:', setting: 'restart.attempts', says: ['must be from 1 to 100'] },
  { name: 'empty cluster', from: 'servers: ["server1", "server2"]', to: 'servers: @@[]', setting: 'clusters.cluster1.servers', says: ['at least one server'] },
];

function locate(text: string): { text: string; line: number; column: number } {
  const at = text.indexOf('@@');
  if (at < 0) throw new Error('test case has no @@ marker');
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  return { text: text.replace('@@', ''), line, column };
}

describe('master config on an invalid domain.json5', () => {
  let home: string;
  let configFile: string;

  beforeAll(async () => {
    home = await tempHome('file');
    const created = await run('master', ['create-domain', 'd1', '--home', home]);
    expect(created.exitCode).toBe(0);
    configFile = join(home, 'domains', 'd1', 'config', 'domain.json5');
    await writeFile(configFile, BASE);
    const valid = await run('master', ['config', 'd1', '--home', home, '--json']);
    expect(valid.stderr).toBe('');
    expect(valid.exitCode).toBe(0);
  });

  it('has a corpus of at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('$name: exit 2 with file:line:column, setting and reason', async (testCase) => {
    expect(BASE.includes(testCase.from), `case "${testCase.name}" must change the base`).toBe(true);
    const changed = BASE.replace(testCase.from, testCase.to);
    const { text, line, column } = locate(testCase.also ? changed.replace(...testCase.also) : changed);
    await writeFile(configFile, text);
    const result = await run('master', ['config', 'd1', '--home', home]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${configFile}:${line}:${column} ${testCase.setting}: `);
    for (const words of testCase.says) expect(result.stderr).toContain(words);
  });

  it('reports every problem at once, in file order', async () => {
    const text = BASE.replace('node: "node2", address', 'node: "node9", address').replace('port: 9736', 'port: 0');
    await writeFile(configFile, text);
    const result = await run('master', ['config', 'd1', '--home', home]);
    expect(result.exitCode).toBe(2);
    const lines = result.stderr.trim().split('\n');
    // A shape error stops before cross-references: the port is reported, alone.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(':3:');
    await writeFile(configFile, BASE.replace('node: "node2", address', 'node: "node9", address').replace('node: null', 'node: "nodeX"'));
    const both = await run('master', ['config', 'd1', '--home', home]);
    const found = both.stderr.trim().split('\n');
    expect(found).toHaveLength(2);
    expect(found[0]).toContain(':10:');
    expect(found[1]).toContain(':14:');
  });

  it('names a missing configuration file', async () => {
    const home2 = await tempHome();
    await run('master', ['create-domain', 'd2', '--home', home2]);
    const { rm } = await import('node:fs/promises');
    await rm(join(home2, 'domains', 'd2', 'config', 'domain.json5'));
    const result = await run('master', ['config', 'd2', '--home', home2]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('domain.json5:1:1 (file): cannot read the configuration: no such file');
  });
});
