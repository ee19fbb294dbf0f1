import { request } from 'node:https';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEPLOY_UPLOAD_PATH, MAX_UPLOAD_BYTES, deployUploadQuery, masterIdentity, signRequest } from '@flotilla/core';
import { run, tempHome } from '@flotilla/test-support';
import { createTestDomain, masterStatus, readKey, startMaster, type TestDomain } from '@flotilla/test-support/domain';
import { domainCa, sendRaw, signedFor, type Answer } from '@flotilla/test-support/management';
import { buildZip, manifestEntry, manifestFor, type BackupFileSpec } from '@flotilla/test-support/zip-writer';

/**
 * `master deploy` from a machine without the domain uploads the application (core's
 * protocol/upload.ts). Every upload the MASTER refuses leaves apps/, its uploads and the
 * generation as they were.
 */
describe('application uploads', () => {
  let domain: TestDomain;
  let key: Buffer;
  let ca: string;
  let operator: string;
  let keyCopy: string;
  const path = `${DEPLOY_UPLOAD_PATH}?${deployUploadQuery({ name: 'hello', context: '/hello', targets: ['server1'] })}`;
  const app: BackupFileSpec[] = [{ path: 'apps/hello/index.js', data: Buffer.from('require("http").createServer((q, s) => s.end("hi")).listen(process.env.PORT);\n') }];
  const archive = (files: BackupFileSpec[]) => buildZip([manifestEntry(manifestFor('up1', files)), ...files.map((file) => ({ name: file.path, data: file.data }))]);

  // A MASTER a test starts is ended after it: each test has its own.
  beforeEach(async () => {
    const home = await tempHome();
    domain = await createTestDomain(home, 'up1', ['server1']);
    await startMaster(domain);
    key = Buffer.from(await readKey(domain), 'hex');
    ca = await domainCa(domain);
    operator = await tempHome();
    keyCopy = join(operator, 'domain.key');
    await writeFile(keyCopy, `${key.toString('hex')}\n`, { mode: 0o600 });
  });

  const post = (body: Buffer, headers: Record<string, string>) => sendRaw(domain.masterPort, { method: 'POST', path, body, headers, ca });

  async function expectNothingInstalled(answer: Answer, status: number, message: string): Promise<void> {
    expect(answer.status, answer.text).toBe(status);
    expect(answer.text).toContain(message);
    expect(await readdir(join(domain.dir, 'apps'))).toEqual([]);
    expect(await readdir(join(domain.dir, 'servers', 'adminServer', 'uploads')).catch(() => [])).toEqual([]);
    expect((await masterStatus(domain)).generation).toBe(1);
  }

  it('refuses an unsigned upload (401) before reading it', async () => {
    await expectNothingInstalled(await post(archive(app), {}), 401, 'unauthorized');
  });

  it('refuses an upload that declares more than the limit (413) before reading it', async () => {
    const headers = signRequest(key, { method: 'POST', path, sender: 'cli', receiver: masterIdentity('up1'), bodyHash: '0'.repeat(64) });
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: domain.masterPort, method: 'POST', path, agent: false, ca, checkServerIdentity: () => undefined, headers: { ...headers, 'content-length': String(MAX_UPLOAD_BYTES + 1) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('x'); // the rest never comes: the MASTER answers at once
    });
    expect(status).toBe(413);
    await expectNothingInstalled({ status, body: Buffer.alloc(0), text: 'too large' }, 413, 'too large');
  });

  it('refuses bytes that are not the ones signed (exit 4)', async () => {
    const body = archive(app);
    const headers = signedFor(key, 'up1', 'master', 'POST', path, Buffer.concat([body, Buffer.from('x')]));
    await expectNothingInstalled(await post(body, headers), 422, 'not the one signed');
  });

  it('refuses an entry whose path leaves the application, by the rule of every received path (exit 4)', async () => {
    const body = archive([...app, { path: 'apps/hello/../../config/evil.js', data: Buffer.from('x') }]);
    await expectNothingInstalled(await post(body, signedFor(key, 'up1', 'master', 'POST', path, body)), 422, 'evil.js');
  });

  it('refuses an entry outside apps/<name>/ (exit 4)', async () => {
    const body = archive([...app, { path: 'config/domain.json5', data: Buffer.from('{}') }]);
    await expectNothingInstalled(await post(body, signedFor(key, 'up1', 'master', 'POST', path, body)), 422, 'is not inside apps/hello/');
  });

  it('master deploy --master uploads and installs one generation; option mistakes are exit 2, a wrong key 4, no MASTER 3', async () => {
    const source = join(operator, 'hello');
    await mkdir(source);
    await writeFile(join(source, 'index.js'), app[0]!.data);
    const remote = ['--home', operator, '--master', `127.0.0.1:${domain.masterPort}`];
    const deployed = await run('master', ['deploy', 'up1', source, '--name', 'hello', '--context', '/hello', '--target', 'server1', ...remote, '--key-file', keyCopy, '--json']);
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    expect(JSON.parse(deployed.stdout).generation).toBe(2);
    expect((await readdir(join(domain.dir, 'apps', 'hello'))).sort()).toEqual(['index.js']);

    const noKey = await run('master', ['status', 'up1', ...remote]);
    expect(noKey.exitCode).toBe(2);
    expect(noKey.stderr).toContain('needs --key-file');
    const missing = await run('master', ['status', 'up1', ...remote, '--key-file', join(operator, 'nosuch.key')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('nosuch.key');
    const wrong = join(operator, 'wrong.key');
    await writeFile(wrong, `${'ab'.repeat(32)}\n`);
    const refused = await run('master', ['config', 'set', 'up1', 'backup.keep', '3', ...remote, '--key-file', wrong]);
    expect(refused.exitCode, refused.stderr).toBe(4);
    expect(refused.stderr).toContain('could not verify the MASTER');
    const down = await run('master', ['config', 'set', 'up1', 'backup.keep', '3', '--home', operator, '--master', '127.0.0.1:1', '--key-file', keyCopy]);
    expect(down.exitCode, down.stderr).toBe(3);
    expect(down.stderr).toContain('MASTER of up1 at 127.0.0.1:1 is unreachable: configuration changes need the MASTER');
    expect((await masterStatus(domain)).generation).toBe(2);
  });
});
