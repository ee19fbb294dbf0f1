import { describe, expect, it } from 'vitest';
import { IntegrityError } from './errors.js';
import { parseBackupManifest } from './backup-manifest.js';

const file = (path: string) => ({ path, size: 3, mode: 0o644, sha256: 'a'.repeat(64) });
const manifest = (files: unknown[]) =>
  JSON.stringify({ formatVersion: 1, domain: 'domain1', generation: 4, createdAt: '2026-11-24T12:00:00.000Z', tool: { name: 'pack-domain', version: '0.1.0' }, files });

describe('parseBackupManifest', () => {
  it('accepts a manifest that lists files under config/ and apps/', () => {
    expect(parseBackupManifest(manifest([file('config/domain.json5'), file('apps/hello/index.js')]), 'a.zip').files).toHaveLength(2);
  });

  it('names the archive, the entry and the problem of a path that could leave the domain, and of a duplicate', () => {
    const cases: Array<[unknown[], string]> = [
      [[file('apps/../../etc/passwd')], 'files.0.path: path "apps/../../etc/passwd" contains ".." and would leave the domain'],
      [[file('/etc/passwd')], 'files.0.path: path "/etc/passwd" is absolute'],
      [[file('servers/s1/server.pid')], 'files.0.path: path "servers/s1/server.pid" is outside config/ and apps/'],
      [[file('apps/a.js'), file('apps/a.js')], 'files.1.path: apps/a.js is listed twice'],
    ];
    for (const [files, message] of cases) {
      const parse = () => parseBackupManifest(manifest(files), 'a.zip');
      expect(parse).toThrow(IntegrityError);
      expect(parse).toThrow(`a.zip: flotilla-backup.json is not a valid backup manifest: ${message}`);
    }
  });
});
