import { execFileSync } from 'node:child_process';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, run, tempHome, waitFor } from '@flotilla/test-support';
import { managedStatus, masterStatus, startManaged, startMaster } from '@flotilla/test-support/domain';
import { STAMPED, echo, echoLogDomain, logsDir, readLog as read } from '@flotilla/test-support/logs';

describe('application and server log files', () => {
  it('keep an application stdout and stderr apart, every line timestamped, a last partial line written when it exits', async () => {
    const home = await tempHome();
    const domain = await echoLogDomain(home, 'lg1');
    await startMaster(domain);
    await startManaged(home, 'lg1', 'server1');
    const stdout = join(logsDir(domain, 'server1'), 'app-echo.stdout.log');
    const stderr = join(logsDir(domain, 'server1'), 'app-echo.stderr.log');
    await waitFor('the start lines', async () => (await read(stdout)).includes('started on stdout') && (await read(stderr)).includes('started on stderr'));
    expect(await read(stdout)).toMatch(new RegExp(`${STAMPED.source}started on stdout$`, 'm'));
    expect(await read(stderr)).toMatch(new RegExp(`${STAMPED.source}started on stderr$`, 'm'));
    expect(await read(stdout)).not.toContain('on stderr');
    expect(await read(stderr)).not.toContain('on stdout');

    expect(await echo(domain, '/exit')).toBe('bye');
    const line = await waitFor('the partial line', async () => (await read(stdout)).split('\n').find((l) => l.endsWith('partial without newline')));
    expect(line).toMatch(new RegExp(`${STAMPED.source}partial without newline$`));
    for (const text of (await read(stdout)).split('\n').filter(Boolean)) expect(text).toMatch(STAMPED);
  });

  it('are rotated at logs.maxBytes, logs.keep rotated files kept', async () => {
    const home = await tempHome();
    const domain = await echoLogDomain(home, 'lg2', '  logs: { maxBytes: 4096, keep: 2 },\n');
    await startMaster(domain);
    await startManaged(home, 'lg2', 'server1');
    const stdout = join(logsDir(domain, 'server1'), 'app-echo.stdout.log');
    await waitFor('the start line', async () => (await read(stdout)).includes('started on stdout'));
    expect(await echo(domain, '/spam')).toBe('spammed');
    expect(await echo(domain, '/spam')).toBe('spammed');
    await waitFor('the last spam line', async () => {
      const files = [stdout, `${stdout}.1`, `${stdout}.2`];
      return (await Promise.all(files.map(read))).join('').includes(`spam line 199 ${'x'.repeat(80)}\n`);
    });
    const names = (await readdir(logsDir(domain, 'server1'))).filter((name) => name.startsWith('app-echo.stdout.log')).sort();
    expect(names).toEqual(['app-echo.stdout.log', 'app-echo.stdout.log.1', 'app-echo.stdout.log.2']);
    for (const name of names) expect((await stat(join(logsDir(domain, 'server1'), name))).size).toBeLessThanOrEqual(4096);
    // Nothing is lost inside what is kept: the rotated files hold consecutive lines.
    const kept = (await Promise.all([`${stdout}.2`, `${stdout}.1`, stdout].map(read))).join('').split('\n').filter(Boolean);
    const numbers = kept.map((line) => Number(/spam line (\d+)/.exec(line)?.[1])).filter((n) => !Number.isNaN(n));
    expect(numbers.slice(-1)[0]).toBe(199);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBe(numbers[i - 1]! + 1);
  });

  it("logrotate with the stanza of docs/operations.md: SIGHUP reopens every file, the servers keep running", async () => {
    const home = await tempHome();
    const domain = await echoLogDomain(home, 'lg3');
    expect((await run('master', ['start', 'lg3', '--home', home, '--detach'])).exitCode).toBe(0);
    expect((await run('managed', ['start', 'lg3', 'server1', '--home', home, '--detach'])).exitCode).toBe(0);
    const files = {
      master: join(logsDir(domain, 'adminServer'), 'adminServer.log'),
      server: join(logsDir(domain, 'server1'), 'server1.log'),
      app: join(logsDir(domain, 'server1'), 'app-echo.stdout.log'),
    };
    await waitFor('the application start line', async () => (await read(files.app)).includes('started on stdout'));
    expect(await read(files.server)).toContain('[MS-0002]');

    const guide = await readFile(join(repoRoot, 'docs', 'operations.md'), 'utf8');
    const stanza = /```\n(\/var\/lib\/flotilla\/[\s\S]*?)```/.exec(guide)?.[1];
    expect(stanza, 'the logrotate stanza in docs/operations.md').toBeDefined();
    const conf = join(home, 'logrotate.conf');
    await writeFile(conf, stanza!.replaceAll('/var/lib/flotilla', home), { mode: 0o644 });
    execFileSync('logrotate', ['-f', '-s', join(home, 'logrotate.state'), conf], { stdio: 'pipe' });

    for (const file of Object.values(files)) {
      const rotated = (await readdir(join(file, '..'))).filter((name) => name.startsWith(`${file.split('/').pop()}-`));
      expect(rotated, `${file} moved away by logrotate`).toHaveLength(1);
    }
    // The reopened files are new: the SIGHUP's own line is the first thing in them.
    await waitFor('SYS-0003 in the new server log', async () => (await read(files.server)).includes('[SYS-0003]'));
    await waitFor('SYS-0003 in the new MASTER log', async () => (await read(files.master)).includes('[SYS-0003]'));
    expect(await read(files.server)).not.toContain('[MS-0002]');
    expect(await echo(domain, '/say/after-rotation')).toBe('said');
    await waitFor('the new line in the new application file', async () => (await read(files.app)).includes('after-rotation'));
    expect(await read(files.app)).not.toContain('started on stdout');

    expect((await managedStatus(home, 'lg3', 'server1')).status).toBe('RUNNING');
    expect((await masterStatus(domain)).servers.find((row: { name: string }) => row.name === 'server1').status).toBe('RUNNING');
  });

  it('SIGHUP on a foreground MASTER and server reopens their logs and stops neither', async () => {
    const home = await tempHome();
    const domain = await echoLogDomain(home, 'lg4');
    const master = await startMaster(domain);
    const server = await startManaged(home, 'lg4', 'server1');
    process.kill(master.pid, 'SIGHUP');
    process.kill(server.pid, 'SIGHUP');
    await waitFor('SYS-0003 from both', () => master.stderr().includes('[SYS-0003]') && server.stderr().includes('[SYS-0003]'));
    expect(await echo(domain, '/')).toBe('hello');
    expect((await managedStatus(home, 'lg4', 'server1')).status).toBe('RUNNING');
    expect((await masterStatus(domain)).servers.find((row: { name: string }) => row.name === 'server1').status).toBe('RUNNING');
    expect(master.child.exitCode).toBeNull();
    expect(server.child.exitCode).toBeNull();
  });
});
