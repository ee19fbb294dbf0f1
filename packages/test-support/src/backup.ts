/**
 * Backup tests: archives read with Info-ZIP (the tool an operator would use), exec wrappers that
 * stand in for ssh, and a MASTER started with a test environment.
 */
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { run, start, waitFor } from './index.js';
import { startMaster, type RunningProcess, type TestDomain } from './domain.js';

/** The text of one entry of a zip. */
export async function zipEntry(archive: string, entry: string): Promise<string> {
  return (await execa('unzip', ['-p', archive, entry], { encoding: 'utf8', stripFinalNewline: false })).stdout;
}

export interface ArchiveManifest {
  formatVersion: number;
  domain: string;
  generation: number | null;
  tool: { name: string; version: string };
  files: Array<{ path: string; size: number; mode: number; mtime: number; sha256: string }>;
  links: Array<{ path: string; target: string }>;
  dirs: Array<{ path: string; mode: number; mtime: number }>;
}

export async function zipManifest(archive: string): Promise<ArchiveManifest> {
  return JSON.parse(await zipEntry(archive, 'flotilla-backup.json')) as ArchiveManifest;
}

export async function zipListing(archive: string): Promise<string[]> {
  return (await execa('unzip', ['-Z1', archive])).stdout.split('\n').sort();
}

/** `unzip -t`: exit code and output. */
export async function zipTest(archive: string): Promise<{ exitCode: number; stdout: string }> {
  const tested = await execa('unzip', ['-t', archive], { reject: false });
  return { exitCode: tested.exitCode ?? -1, stdout: String(tested.stdout) };
}

/**
 * An executable shell script in `dir`, for a node's `exec`: `"<path> {host}"`. `body` runs with
 * the host as $1 and, after it, the command line to run, as ssh would pass it.
 */
export async function writeScript(dir: string, name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

/** Runs the command line like ssh does on the far side: through a shell, the host dropped. */
export const SSH_LIKE_WRAPPER = 'shift\nexec sh -c "$*"';

/** The files of `dir` named like boot backups of `domain`, oldest first. */
export async function bootBackups(dir: string, domain: string): Promise<string[]> {
  const pattern = new RegExp(`^${domain}_\\d{8}_\\d{6}(_\\d+)?\\.zip$`);
  return (await readdir(dir).catch(() => [] as string[])).filter((name) => pattern.test(name)).sort();
}

/** `master start` in the foreground with extra environment (test hooks), ready when it returns. */
export async function startMasterWithEnv(domain: TestDomain, env: Record<string, string>): Promise<RunningProcess> {
  const child = start('master', ['start', domain.name, '--home', domain.home], { env });
  let said = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    said += chunk.toString();
  });
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  await waitFor(`MASTER of ${domain.name} to serve`, () => {
    if (exited) throw new Error(`MASTER of ${domain.name} exited: ${said}`);
    return said.includes('[MA-0002]');
  });
  return { child, pid: child.pid!, stderr: () => said };
}

/** What the MASTER recorded of its last boot backup (servers/<master>/last-boot-backup.json). */
export interface BootRecord {
  time: string;
  outcome: string;
  file?: string;
  place?: string;
  generation?: number | null;
  copyFailure?: string;
}

/** Boots the MASTER, waits until the boot backup after `previous` is recorded, stops it; returns the record. */
export async function bootWithBackup(domain: TestDomain, previous?: BootRecord): Promise<{ record: BootRecord; master: RunningProcess }> {
  const master = await startMaster(domain);
  const recordFile = join(domain.dir, 'servers', 'adminServer', 'last-boot-backup.json');
  const record = await waitFor('the boot backup', async () => {
    const read = JSON.parse(await readFile(recordFile, 'utf8')) as BootRecord;
    return read.time !== previous?.time ? read : undefined;
  });
  const stopped = await run('master', ['stop', domain.name, '--home', domain.home]);
  expect(stopped.exitCode, stopped.stderr).toBe(0);
  await master.child;
  return { record, master };
}

/** Adds `nodes` (JSON5 entries, each ending in a comma) to the domain's nodes and sets its backup policy to `backup`. */
export async function withNodes(domain: TestDomain, nodes: string, backup: string): Promise<void> {
  const config = await readFile(domain.configFile, 'utf8');
  await writeFile(domain.configFile, config.replace('nodes: {', `nodes: { ${nodes}`).replace(/\n}\n$/, `\n  backup: ${backup},\n}\n`));
}
