import { stat } from 'node:fs/promises';
import { execa, parseCommandString } from 'execa';
import { FlotillaError, type DomainConfig } from '@flotilla/core';
import { backupMessages } from './messages.js';

/** Generous for a large archive over a slow link; a hung ssh must still end some day. */
const COPY_TIMEOUT_MS = 30 * 60 * 1000;
/** Enough of the command's stderr to say what went wrong, not a whole transcript. */
const DETAIL_CHARS = 500;

export interface RemoteNode {
  name: string;
  host: string;
  /** The node's command prefix, `{host}` standing for its host: `ssh -o BatchMode=yes {host}`. */
  exec: string;
}

/** Quotes a word for a POSIX shell. */
export function quote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * The command line the node's shell runs: it receives the archive on stdin into a temporary file,
 * checks that every byte arrived (a copy cut short must not take the final name), renames it into
 * place and keeps the newest `keep` boot backups there.
 */
export function receiveScript(dir: string, name: string, size: number, keep: number, pattern: string): string {
  return [
    // The archive holds the domain key: only its owner may read it there too.
    `umask 077; d=${quote(dir)}; f=${quote(name)}; t="$d/.$f.$$.tmp"`,
    `{ mkdir -p -- "$d" && cat > "$t" && [ "$(($(wc -c < "$t")))" -eq ${size} ] && mv -f -- "$t" "$d/$f"; } || { rm -f -- "$t"; echo "could not write $d/$f" >&2; exit 1; }`,
    `cd -- "$d" && ls -1 | grep -E ${quote(pattern)} | sort -r | awk 'NR>${keep}' | while IFS= read -r old; do rm -f -- "$old"; done`,
    'exit 0',
  ].join('\n');
}

/** The backup node of the policy when it is reached through an exec prefix; a node without exec is this machine. */
export function remoteBackupNode(config: DomainConfig): RemoteNode | undefined {
  const name = config.backup.node;
  // The loaded configuration has checked that backup.node names a node.
  const node = name === null ? undefined : config.nodes[name];
  return node?.exec ? { name: name!, host: node.host, exec: node.exec } : undefined;
}

export interface NodeRun {
  /** The file the script reads on stdin. */
  inputFile?: string;
  /** Where the script's stdout goes: a file on this machine, or kept (at most maxBuffer bytes). */
  stdout: 'ignore' | 'keep' | { file: string };
  maxBuffer?: number;
}

/**
 * Runs `script` on `node` through its exec prefix, the way ssh runs its arguments: the script is
 * one argument, a shell command line the node's shell interprets (so `ssh -o BatchMode=yes {host}`
 * works as is, and a local wrapper runs `sh -c "$*"`). Returns its stdout when kept; a failure
 * says how it failed and what the node's stderr said.
 */
export async function runOnNode(node: RemoteNode, script: string, how: NodeRun): Promise<string> {
  const [command = node.exec, ...prefix] = parseCommandString(node.exec.replaceAll('{host}', node.host));
  const result = await execa(command, [...prefix, script], {
    ...(how.inputFile ? { inputFile: how.inputFile } : { stdin: 'ignore' as const }),
    stdout: how.stdout === 'keep' ? 'pipe' : how.stdout,
    ...(how.maxBuffer ? { maxBuffer: how.maxBuffer } : {}),
    timeout: COPY_TIMEOUT_MS,
    reject: false,
  });
  if (result.failed) {
    const said = String(result.stderr ?? '').trim().slice(-DETAIL_CHARS);
    const failure = result.timedOut
      ? `timed out after ${COPY_TIMEOUT_MS / 1000} s`
      : result.exitCode !== undefined
        ? `exit ${result.exitCode}`
        : (result.shortMessage ?? 'it could not be run');
    throw new FlotillaError(backupMessages.copyCommandFailed(node.name, node.exec, said ? `${failure}: ${said}` : failure));
  }
  return how.stdout === 'keep' ? String(result.stdout) : '';
}

/** Copies `file` into `dir` on `node` through its exec prefix (receiveScript). */
export async function copyToNode(node: RemoteNode, file: string, dir: string, name: string, keep: number, pattern: string): Promise<void> {
  const { size } = await stat(file);
  await runOnNode(node, receiveScript(dir, name, size, keep, pattern), { inputFile: file, stdout: 'ignore' });
}
