import { describe, expect, it } from 'vitest';
import { ExitCode } from '../errors.js';
import type { Logger } from '../log.js';
import { ProtocolError, parseMessage } from './parse-message.js';
import {
  ContentRequestSchema,
  GenerationManifestSchema,
  MAX_CONTENT_HASHES,
  ManagedStatusSchema,
  MasterConfigChangeSchema,
  PROTOCOL_VERSION,
  StreamEventSchema,
  type GenerationManifest,
  type ManagedStatus,
} from './sync.js';

const HASH = 'ab'.repeat(32);

function manifest(files: Array<{ path: string }> = [{ path: 'config/domain.json5' }, { path: 'apps/hello/index.js' }]): GenerationManifest {
  return {
    protocol: PROTOCOL_VERSION,
    domain: 'd1',
    generation: 3,
    digest: HASH,
    files: files.map(({ path }) => ({ path, size: 12, mode: 0o644, mtime: 0, sha256: HASH })),
    links: [],
    dirs: [],
  };
}

const status: ManagedStatus = {
  domain: 'd1',
  server: 'server1',
  status: 'RUNNING',
  statusSince: '2026-11-24T10:00:00.000Z',
  pid: 4250,
  mode: 'INDEPENDENT',
  reason: 'master-unreachable-at-start',
  since: '2026-11-24T10:00:00.000Z',
  generation: 12,
  master: { address: '127.0.0.1', port: 9736, connected: false },
  address: '127.0.0.1',
  port: 9746,
  http: 8088,
  node: 'node1',
  apps: [{ name: 'hello', context: '/hello', status: 'RUNNING', restarts: 0 }],
};

function refusal(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('the message was accepted');
}

describe('parseMessage', () => {
  it('accepts a good message as text, as a Buffer or already parsed, and returns it typed', () => {
    const text = JSON.stringify(manifest());
    expect(parseMessage(GenerationManifestSchema, text, 'the manifest')).toEqual(manifest());
    expect(parseMessage(GenerationManifestSchema, Buffer.from(text), 'the manifest')).toEqual(manifest());
    expect(parseMessage(ManagedStatusSchema, status, 'the report')).toEqual(status);
    expect(parseMessage(StreamEventSchema, '{"type":"ping"}', 'an event')).toEqual({ type: 'ping' });
  });

  it('refuses another protocol version, saying which, with exit 4', () => {
    const error = refusal(() => parseMessage(GenerationManifestSchema, { ...manifest(), protocol: PROTOCOL_VERSION + 1 }, 'the manifest from the MASTER at 10.0.0.1:9736'));
    expect(error.exitCode).toBe(ExitCode.integrity);
    expect(error.message).toBe(
      `the manifest from the MASTER at 10.0.0.1:9736 speaks protocol version ${PROTOCOL_VERSION + 1}, this Flotilla speaks ${PROTOCOL_VERSION}: run the same Flotilla version on the MASTER and its servers`,
    );
  });

  it('refuses what is not JSON, extra keys, a bad hash and a wrong type, naming the first problem and its place', () => {
    expect(refusal(() => parseMessage(StreamEventSchema, 'not json', 'an event')).message).toMatch(/^an event is not JSON \(/);
    expect(refusal(() => parseMessage(ManagedStatusSchema, { ...status, extra: 1 }, 'the report of server1')).message).toBe(
      `the report of server1 is not a valid message of Flotilla protocol ${PROTOCOL_VERSION}: (top level): Unrecognized key: "extra"`,
    );
    const badHash = manifest();
    badHash.files[1]!.sha256 = 'AB'.repeat(32);
    expect(refusal(() => parseMessage(GenerationManifestSchema, badHash, 'the manifest')).message).toContain('files.1.sha256: must be 64 lowercase hexadecimal characters');
    expect(refusal(() => parseMessage(ManagedStatusSchema, { ...status, pid: -1 }, 'the report')).message).toContain('pid:');
    expect(refusal(() => parseMessage(StreamEventSchema, { type: 'generation', generation: 1 }, 'an event')).message).toContain('digest:');
    expect(refusal(() => parseMessage(MasterConfigChangeSchema, { op: 'drop-database' }, 'a change')).message).toContain('op:');
  });

  it('refuses huge arrays and never quotes megabytes back', () => {
    const tooMany = { hashes: Array.from({ length: MAX_CONTENT_HASHES + 1 }, () => HASH) };
    expect(refusal(() => parseMessage(ContentRequestSchema, tooMany, 'a content request')).message).toContain(`at most ${MAX_CONTENT_HASHES} files`);
    const longKey = 'k'.repeat(2_000_000);
    const huge = refusal(() => parseMessage(ManagedStatusSchema, JSON.stringify({ ...status, [longKey]: 1 }), 'the report'));
    expect(huge.message.length).toBeLessThan(500);
    const hugeText = refusal(() => parseMessage(ManagedStatusSchema, `{${'x'.repeat(2_000_000)}`, 'the report'));
    expect(hugeText.message.length).toBeLessThan(500);
  });

  it('refuses every manifest path a backup would refuse, and duplicates', () => {
    const cases: Array<[string, string]> = [
      ['apps/hello/../../../../../../../escaped.txt', 'contains ".." and would leave the cache'],
      ['/etc/passwd', 'is absolute'],
      ['apps/a//b', 'has an empty or "." segment'],
      ['apps\\a.js', 'contains a backslash'],
      [`apps/${'x'.repeat(1100)}`, 'is longer than 1024 bytes'],
      ['servers/server1/cache/current.json', 'is neither config/domain.json5 nor below apps/'],
    ];
    for (const [path, says] of cases) {
      const message = refusal(() => parseMessage(GenerationManifestSchema, manifest([{ path: 'config/domain.json5' }, { path }]), 'the manifest')).message;
      expect(message, path).toContain(`files.1.path: path ${JSON.stringify(path.slice(0, 120)).slice(0, -1)}`);
      expect(message, path).toContain(says);
      expect(message.length).toBeLessThan(500);
    }
    const twice = manifest([{ path: 'config/domain.json5' }, { path: 'apps/a.js' }, { path: 'apps/a.js' }]);
    expect(refusal(() => parseMessage(GenerationManifestSchema, twice, 'the manifest')).message).toContain('files.2.path: apps/a.js is listed twice');
  });

  it('logs a refusal when given a logger, as SYS-0002', () => {
    const logged: string[] = [];
    const log = { info() {}, warn: (code: string, message: string) => logged.push(`${code} ${message}`), error() {} } as unknown as Logger;
    refusal(() => parseMessage(StreamEventSchema, '{"type":"boom"}', 'an event from the MASTER', log));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^SYS-0002 an event from the MASTER is not a valid message/);
  });
});
