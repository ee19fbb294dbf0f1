import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FlotillaError } from '@flotilla/core';
import { bootBackupPattern } from '../../server/backup/boot-names.js';
import { quote, runOnNode, type RemoteNode } from '../../server/backup/node-copy.js';
import { backupsMessages } from './messages.js';

/** A listing is a line per boot backup (backup.keep of them): far below this. */
const MAX_LISTING_BYTES = 1024 * 1024;

export interface NodeFile {
  name: string;
  bytes: number;
}

/**
 * The boot backups of `domain` in `dir` on the backup node, reached through its exec prefix as
 * the boot backup copies are: names and sizes only, nothing read. A directory that is not there
 * holds none. What the node answers is checked line by line: a name must be a boot backup's.
 */
export async function listNodeBackups(node: RemoteNode, dir: string, domain: string): Promise<NodeFile[]> {
  const pattern = bootBackupPattern(domain);
  const script = [
    `d=${quote(dir)}; [ -d "$d" ] || exit 0; cd -- "$d" || exit 1`,
    `ls -1 | grep -E ${quote(pattern)} | while IFS= read -r f; do printf '%s %s\\n' "$(($(wc -c < "$f")))" "$f"; done`,
    'exit 0',
  ].join('\n');
  const answer = await runOnNode(node, script, { stdout: 'keep', maxBuffer: MAX_LISTING_BYTES });
  const name = new RegExp(pattern);
  return answer
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match = /^(\d{1,15}) (.+)$/.exec(line);
      if (!match || !name.test(match[2]!)) throw new FlotillaError(backupsMessages.nodeAnswer(node.name, line));
      return { name: match[2]!, bytes: Number(match[1]) };
    });
}

/** Copies one listed backup from the node into `target` on this machine, all of it or a failure. */
export async function fetchNodeBackup(node: RemoteNode, dir: string, file: NodeFile, target: string): Promise<void> {
  const remote = join(dir, file.name);
  await runOnNode(node, `cat -- ${quote(remote)}`, { stdout: { file: target } });
  const { size } = await stat(target);
  if (size !== file.bytes) throw new FlotillaError(backupsMessages.fetchedShort(`${node.name}:${remote}`, file.bytes, size));
}
