import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { CommandEntry } from '@flotilla/core/cli';
import { heartbeatCommands } from '../packages/heartbeat/src/command-table.js';
import { managedCommands } from '../packages/managed/src/command-table.js';
import { masterCommands } from '../packages/master/src/command-table.js';
import { binaryPath, onCleanup, run, type Binary } from '@flotilla/test-support';

const tables: Array<[Binary, CommandEntry[]]> = [
  ['master', masterCommands],
  ['managed', managedCommands],
  ['heartbeat', heartbeatCommands],
];
const singleCommand: Binary[] = ['pack-domain', 'unpack-domain', 'set-domain-backup'];

describe.each(tables)('%s lists its commands without loading them', (binary, commands) => {
  it.each(commands.map((entry) => [entry.command.split(' ')[0]!, entry] as const))('%s: the table says what the command says', async (_name, entry) => {
    const module = await entry.load();
    expect({ command: entry.command, describe: entry.describe }).toEqual({ command: module.command, describe: module.describe });
  });

  it.each(commands.map((entry) => entry.command.split(' ')[0]!))('%s --help has examples', async (name) => {
    const result = await run(binary, [name, '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain(`${binary} ${name} `);
  });
});

describe.each(singleCommand)('%s --help has examples', (binary) => {
  it('shows them', async () => {
    const result = await run(binary, ['--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`Examples:\\n  ${binary} `));
  });
});

describe('a mistyped command', () => {
  it('is refused with exit 2 and the command it was likely meant to be', async () => {
    const result = await run('master', ['statsu', 'd1']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('master: Unknown command "statsu": did you mean status?\nRun "master --help" for usage.');
  });

  it('far from every command gets no suggestion', async () => {
    const result = await run('managed', ['frobnicate']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('managed: Unknown command "frobnicate"\n');
  });
});

/** A directory holding `master` as the shell would find it on PATH. */
async function binDir(binary: Binary): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-completion-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, binary);
  await writeFile(file, `#!/bin/sh\nexec "${process.execPath}" "${binaryPath(binary)}" "$@"\n`);
  await chmod(file, 0o755);
  return dir;
}

describe('completion', () => {
  it('bash: the script completes subcommands and a command\'s options', async () => {
    const script = await run('master', ['completion', 'bash']);
    expect(script.exitCode).toBe(0);
    const complete = async (...words: string[]) => {
      const shell = `${script.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}\n_flotilla_master\nprintf '%s\\n' "\${COMPREPLY[@]}"\n`;
      const result = await execa('bash', ['-c', shell], { env: { PATH: `${await binDir('master')}:${process.env.PATH}`, FLOTILLA_HOME: '' }, reject: false });
      return result.stdout.split('\n').filter(Boolean).sort();
    };
    expect(await complete('master', 'st')).toEqual(['start', 'start-server', 'status', 'stop', 'stop-server']);
    expect(await complete('master', 'status', '--w')).toEqual(['--watch']);
  });

  it('zsh: a compdef script whose question to the binary answers in zsh\'s name:description form', async () => {
    const script = await run('master', ['completion', 'zsh']);
    expect(script.exitCode).toBe(0);
    expect(script.stdout).toMatch(/^#compdef master\n/);
    expect(script.stdout).toContain('compdef _flotilla_master master');
    // What the script runs for `master st<TAB>`:
    const asked = await run('master', ['--get-yargs-completions', 'master', 'st'], { env: { SHELL: 'zsh' } });
    expect(asked.stdout).toContain('status:The server table');
    expect(asked.stdout).toContain('start:Run the MASTER of a domain');
  });

  it('without a shell named, follows $SHELL', async () => {
    const result = await run('pack-domain', ['completion'], { env: { SHELL: '/bin/zsh' } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^#compdef pack-domain\n/);
  });
});
