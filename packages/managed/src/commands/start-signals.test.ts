import { createServer, type AddressInfo, type Socket } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onCleanup, run, start, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, masterStatus, startManaged, startMaster } from '@flotilla/test-support/domain';

const exists = (path: string) => stat(path).then(() => true, () => false);
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A port that accepts connections and never answers: a start that syncs from it waits. */
async function silentPort(): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

describe('managed start and the signals an operator sends', () => {
  it('stops gracefully on Ctrl-C and SIGTERM in the foreground, and the MASTER does not start it again', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'sig', ['server1', 'server2'], '', { autoRestart: true });
    await startMaster(domain);
    const servers = { SIGINT: await startManaged(home, 'sig', 'server1'), SIGTERM: await startManaged(home, 'sig', 'server2') };
    await waitFor('both RUNNING at the MASTER', async () => (await masterStatus(domain)).servers.filter((row: any) => row.status === 'RUNNING').length === 3);

    for (const [signal, server] of Object.entries(servers)) {
      process.kill(server.pid, signal as NodeJS.Signals);
      const exited = await server.child;
      expect(exited.exitCode, `${signal}: ${server.stderr()}`).toBe(0);
      expect(server.stderr()).toContain('[MS-0003]');
      expect(server.stderr()).toContain('[MS-0004]');
    }
    const shutdown = async () => (await masterStatus(domain)).servers.filter((row: any) => !row.master && row.status === 'SHUTDOWN').length === 2;
    await waitFor('both SHUTDOWN at the MASTER', shutdown);
    // Longer than failure detection and a restart take: the operator's stop stays a stop.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    expect(await shutdown()).toBe(true);
    const table = await masterStatus(domain);
    expect(table.servers.filter((row: any) => row.pid !== null && !row.master)).toEqual([]);
  }, 60_000);

  it('an interrupted start --detach leaves no half-started server', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'sigd', ['server1']);
    const remoteHome = await tempHome();
    const port = await silentPort();
    const starting = start('managed', ['start', 'sigd', 'server1', '--home', remoteHome, '--detach', '--master', `127.0.0.1:${port}`, '--key-file', domain.keyFile]);
    const logFile = join(remoteHome, 'domains', 'sigd', 'servers', 'server1', 'logs', 'server1.log');
    const pid = await waitFor('the background server to start', async () => {
      const said = await readFile(logFile, 'utf8').catch(() => '');
      return Number(/"code":"MS-0001".*\(pid (\d+)\)/.exec(said)?.[1]);
    });
    process.kill(starting.pid!, 'SIGINT');
    expect((await starting).exitCode).toBe(130);
    expect(isAlive(pid)).toBe(false);
    expect(await readFile(logFile, 'utf8')).not.toContain('IPC channel');
  });

  it('refuses a server the domain does not define, and a missing --key-file, with exit 2 and nothing written', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'sign', ['server1']);
    const unknown = await run('managed', ['start', 'sign', 'nosuch', '--home', home]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('server nosuch is not defined in domain sign (servers: server1)');
    expect(await exists(join(domain.dir, 'servers', 'nosuch', 'cache'))).toBe(false);

    const noKey = await run('managed', ['start', 'sign', 'server1', '--home', await tempHome(), '--master', `127.0.0.1:${domain.masterPort}`, '--key-file', '/nonexistent']);
    expect(noKey.exitCode).toBe(2);
    expect(noKey.stderr).toContain('--key-file /nonexistent is not a readable file');
  });
});
