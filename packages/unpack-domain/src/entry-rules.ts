import { BACKUP_MANIFEST_NAME, backupPathProblem } from '@flotilla/core/backup';
import type { CentralRecord } from './central-directory.js';

const HOST_UNIX = 3;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const FLAG_ENCRYPTED = 0x1;
export const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;

/** What a record is, by its Unix file type: the manifest says which of them each path must be. */
export type RecordKind = 'file' | 'link' | 'dir';

/** A record's path as the manifest writes it: a directory entry without its trailing `/`. */
export function recordPath(record: CentralRecord): string {
  return record.path.endsWith('/') ? record.path.slice(0, -1) : record.path;
}

/**
 * What is wrong with one central-directory record, judged from the record alone, or its kind. A
 * backup holds regular files, symbolic links and empty directories (whether a link may be kept is
 * the manifest's rule, checked with it); devices and other special files could point a restore
 * anywhere and are refused.
 */
export function recordProblem(record: CentralRecord): { problem: string } | { kind: RecordKind } {
  const refuse = (problem: string) => ({ problem });
  if (!record.nameIsUtf8) return refuse('has a name that is not valid UTF-8');
  const path = recordPath(record);
  if (path !== BACKUP_MANIFEST_NAME || record.path.endsWith('/')) {
    const pathProblem = backupPathProblem(path);
    if (pathProblem) return refuse(pathProblem);
  }
  if (record.versionMadeBy >> 8 !== HOST_UNIX) {
    return refuse(`carries no Unix file type (made on host type ${record.versionMadeBy >> 8}); only entries written by pack-domain are accepted`);
  }
  const type = (record.externalFileAttributes >>> 16) & S_IFMT;
  const kind: RecordKind | undefined = type === S_IFREG ? 'file' : type === S_IFLNK ? 'link' : type === S_IFDIR ? 'dir' : undefined;
  if (!kind) return refuse(`is not a regular file, symbolic link or directory (Unix mode ${(record.externalFileAttributes >>> 16).toString(8)})`);
  if ((kind === 'dir') !== record.path.endsWith('/')) return refuse(kind === 'dir' ? 'is a directory entry whose name does not end with "/"' : 'has a name ending with "/" but is not a directory');
  if (record.flags & FLAG_ENCRYPTED) return refuse('is encrypted');
  if (record.compressionMethod !== METHOD_STORED && record.compressionMethod !== METHOD_DEFLATED) {
    return refuse(`uses compression method ${record.compressionMethod} (only stored and deflated are supported)`);
  }
  return { kind };
}
