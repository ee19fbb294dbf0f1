import { describe, expect, it } from 'vitest';
import { IntegrityError } from './errors.js';
import { parseBackupManifest } from './backup-manifest.js';

const file = (path: string) => ({ path, size: 3, mode: 0o644, mtime: 1_700_000_000_000, sha256: 'a'.repeat(64) });
const manifest = (files: unknown[], links: unknown[] = [], dirs: unknown[] = []) =>
  JSON.stringify({ formatVersion: 2, domain: 'domain1', generation: 4, createdAt: '2026-11-24T12:00:00.000Z', tool: { name: 'pack-domain', version: '0.1.0' }, files, links, dirs });

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

  it('keeps relative links inside an application and empty directories, and names every link that would lead out', () => {
    const parsed = parseBackupManifest(
      manifest([file('apps/hello/node_modules/mime/cli.js')], [{ path: 'apps/hello/node_modules/.bin/mime', target: '../mime/cli.js' }], [{ path: 'apps/hello/tmp', mode: 0o755, mtime: 0 }]),
      'a.zip',
    );
    expect(parsed.links).toEqual([{ path: 'apps/hello/node_modules/.bin/mime', target: '../mime/cli.js' }]);
    expect(parsed.dirs).toHaveLength(1);
    const cases: Array<[unknown[], string]> = [
      [[{ path: 'apps/hello/key', target: '/etc/passwd' }], 'links.0.target: "apps/hello/key" is an absolute symbolic link'],
      [[{ path: 'apps/hello/bin/up', target: '../../other/x' }], 'leaves the application apps/hello'],
      [[{ path: 'apps/hello/a', target: 'b/../../x' }], 'has an empty, "." or ".." segment after its leading ".."'],
      [[{ path: 'config/key', target: 'security/domain.key' }], 'is a symbolic link outside apps/<application>/'],
    ];
    for (const [links, message] of cases) {
      const parse = () => parseBackupManifest(manifest([file('config/domain.json5')], links), 'a.zip');
      expect(parse).toThrow(IntegrityError);
      expect(parse).toThrow(message);
    }
  });
});
