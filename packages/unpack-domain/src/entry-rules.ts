import type { File } from 'unzipper';
import { BACKUP_MANIFEST_NAME, backupPathProblem } from '@flotilla/core';

const HOST_UNIX = 3;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const FLAG_ENCRYPTED = 0x1;
export const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;

/**
 * What is wrong with one central-directory record, judged from the record alone, or undefined.
 * A backup holds regular files only: links and devices could point a restore anywhere, and
 * directories are implied by the files' paths.
 */
export function recordProblem(record: File): string | undefined {
  if (!record.pathBuffer.equals(Buffer.from(record.path, 'utf8'))) return 'has a name that is not valid UTF-8';
  if (record.path.endsWith('/')) return 'is a directory entry (a backup holds files only)';
  if (record.path !== BACKUP_MANIFEST_NAME) {
    const pathProblem = backupPathProblem(record.path);
    if (pathProblem) return pathProblem;
  }
  if (record.versionMadeBy >> 8 !== HOST_UNIX) {
    return `carries no Unix file type (made on host type ${record.versionMadeBy >> 8}); only regular files written by pack-domain are accepted`;
  }
  const type = (record.externalFileAttributes >>> 16) & S_IFMT;
  if (type === S_IFLNK) return 'is a symbolic link';
  if (type === S_IFDIR) return 'is a directory entry (a backup holds files only)';
  if (type !== S_IFREG) return `is not a regular file (Unix mode ${(record.externalFileAttributes >>> 16).toString(8)})`;
  if (record.flags & FLAG_ENCRYPTED) return 'is encrypted';
  if (record.compressionMethod !== METHOD_STORED && record.compressionMethod !== METHOD_DEFLATED) {
    return `uses compression method ${record.compressionMethod} (only stored and deflated are supported)`;
  }
  return undefined;
}
