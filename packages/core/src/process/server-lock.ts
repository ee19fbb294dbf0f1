import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { FlotillaError } from '../errors.js';

/**
 * True while `pid` runs. A killed process whose parent has not reaped it yet (a zombie) answers
 * signals but is dead: /proc tells them apart.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: the signal test is all there is
  }
}

/** The PID in a pid file, if the file exists and that process is alive. */
export async function runningPid(pidFile: string): Promise<number | undefined> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/**
 * Makes this process the one instance of a server: the pid file is created exclusively; a pid file
 * left by a process that is gone (SIGKILL, power loss) is taken over. Released when the process exits.
 */
export async function acquireServerLock(pidFile: string, what: string): Promise<void> {
  await mkdir(dirname(pidFile), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(pidFile, 'wx', 0o644);
      await handle.writeFile(`${process.pid}\n`);
      await handle.sync();
      await handle.close();
      process.once('exit', () => {
        try {
          unlinkSync(pidFile);
        } catch {
          // already gone: nothing to release
        }
      });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await runningPid(pidFile);
      if (holder !== undefined && holder !== process.pid) {
        throw new FlotillaError(`${what} is already running (pid ${holder}); stop it first`);
      }
      await unlink(pidFile).catch(() => {}); // stale: its process is gone
    }
  }
  throw new FlotillaError(`cannot take the pid file ${pidFile}: another process keeps racing for it`);
}
