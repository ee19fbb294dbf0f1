import { describe, expect, it } from 'vitest';
import { run, tempHome } from '@flotilla/test-support';
import { createTestDomain, masterStatus, readKey, startMaster } from '@flotilla/test-support/domain';
import { domainCa, sendRaw, signedFor } from '@flotilla/test-support/management';

describe('the MASTER checks every message before use', () => {
  it('refuses setting paths that reach the prototype, from the command line and on the wire, and keeps serving', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'pp', ['server1']);
    const master = await startMaster(domain);

    for (const [path, segment] of [
      ['__proto__.polluted', '__proto__'],
      ['constructor.prototype.x', 'constructor'],
      ['servers.server1.__proto__.x', '__proto__'],
    ]) {
      const set = await run('master', ['config', 'set', 'pp', path!, '1', '--home', home]);
      expect(set.exitCode, path).toBe(2);
      expect(set.stderr, path).toContain(`"${path}" is not a setting path: "${segment}" is never a setting name`);
      const get = await run('master', ['config', 'get', 'pp', path!, '--home', home]);
      expect(get.exitCode, path).toBe(2);
    }

    // A client that skips the command's check meets the same refusal at the MASTER.
    const key = Buffer.from(await readKey(domain), 'hex');
    const ca = await domainCa(domain);
    const post = async (path: string, body: string) => {
      const answer = await sendRaw(domain.masterPort, { method: 'POST', path, headers: signedFor(key, 'pp', 'master', 'POST', path, body), body, ca });
      return { status: answer.status, body: answer.text };
    };
    const polluting = await post('/v2/config', JSON.stringify({ op: 'set', path: 'servers.server1.__proto__.x', value: 1 }));
    expect(polluting.status).toBe(400);
    expect(JSON.parse(polluting.body)).toMatchObject({ exitCode: 2, error: expect.stringContaining('"__proto__" is never a setting name') });
    // Set as a key of the policy, it is a key the protocol does not have.
    const policy = await post('/v2/config', '{"op":"set-backup-policy","policy":{"__proto__":{"polluted":1}}}');
    expect(policy.status).toBe(422);
    expect(JSON.parse(policy.body)).toMatchObject({ exitCode: 4, error: expect.stringContaining('a configuration change from cli is not a valid message') });

    const report = await post('/v2/servers/server1/report', JSON.stringify({ server: 'server1', status: 'RUNNING' }));
    expect(report.status).toBe(422);
    expect(JSON.parse(report.body).error).toContain('the report of server1 from cli is not a valid message');
    const backup = await post('/v2/backup', JSON.stringify({ target: 42 }));
    expect(backup.status).toBe(422);
    expect(master.stderr()).toContain('[SYS-0002] the report of server1 from cli is not a valid message');

    const status = await masterStatus(domain);
    expect(status.domain).toBe('pp');
    expect(status.generation).toBe(1);
    expect((await run('master', ['config', 'get', 'pp', 'servers.server1.port', '--home', home])).stdout.trim()).toBe(String(domain.servers.server1!.port));
  });
});
