import { stat } from 'node:fs/promises';
import { execa, parseCommandString } from 'execa';
import { FlotillaError } from '@flotilla/core';
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
function quote(word: string): string {
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

/**
 * Copies `file` into `dir` on `node` through its exec prefix. The prefix is run like ssh runs its
 * arguments: the command is one argument, a shell command line the node's shell interprets (so
 * `ssh -o BatchMode=yes {host}` works as is, and a local wrapper runs `sh -c "$*"`).
 */
export async function copyToNode(node: RemoteNode, file: string, dir: string, name: string, keep: number, pattern: string): Promise<void> {
  const [command = node.exec, ...prefix] = parseCommandString(node.exec.replaceAll('{host}', node.host));
  const { size } = await stat(file);
  const script = receiveScript(dir, name, size, keep, pattern);
  const result = await execa(command, [...prefix, script], { inputFile: file, timeout: COPY_TIMEOUT_MS, reject: false, stdout: 'ignore' });
  if (result.failed) {
    const said = String(result.stderr ?? '').trim().slice(-DETAIL_CHARS);
    const how = result.timedOut
      ? `timed out after ${COPY_TIMEOUT_MS / 1000} s`
      : result.exitCode !== undefined
        ? `exit ${result.exitCode}`
        : (result.shortMessage ?? 'it could not be run');
    throw new FlotillaError(backupMessages.copyCommandFailed(node.name, node.exec, said ? `${how}: ${said}` : how));
  }
}
