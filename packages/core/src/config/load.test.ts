import { describe, expect, it } from 'vitest';
import { parseDomainConfig } from './load.js';

const config = (application: string) => `{
  name: "d1",
  master: { name: "adminServer", node: "node1", address: "127.0.0.1", port: 19736 },
  nodes: { node1: { host: "127.0.0.1" } },
  servers: { server1: { node: "node1", address: "127.0.0.1", port: 19746, http: 18088 } },
  applications: {
    ${application}
  },
}`;

describe('application names and contexts in a hand-edited domain.json5', () => {
  it('are refused by the one rule set, with the file, line and column', () => {
    const cases: Array<[string, string]> = [
      ['ok: { context: "/ok/", targets: ["server1"] },', 'domain.json5:7:20 applications.ok.context: must not end with "/" (write /ok)'],
      ['ok: { context: "/a/../b", targets: ["server1"] },', 'domain.json5:7:20 applications.ok.context: must not hold an empty, "." or ".." segment'],
      ['ok: { context: "/a//b", targets: ["server1"] },', 'must not hold an empty, "." or ".." segment'],
      ['ok: { context: "/-", targets: ["server1"] },', 'must not be /- or below it'],
      ['ok: { context: "/-/health", targets: ["server1"] },', 'must not be /- or below it'],
      ['".deploy-x.tmp": { context: "/x", targets: ["server1"] },', 'domain.json5:7:5 applications[".deploy-x.tmp"]: name ".deploy-x.tmp" must not start with "."'],
    ];
    for (const [application, message] of cases) expect(() => parseDomainConfig(config(application), { file: 'domain.json5' }), application).toThrow(message);
    for (const context of ['/', '/ok', '/a/b.c', '/-ok']) {
      expect(parseDomainConfig(config(`ok: { context: "${context}", targets: ["server1"] },`), { file: 'domain.json5' }).applications.ok!.context).toBe(context);
    }
  });
});
