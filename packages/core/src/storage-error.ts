import { dirname, sep } from 'node:path';
import { FlotillaError } from './errors.js';
import { messages } from './messages.js';

/** The file-system refusals an operator fixes on the machine (space, quota, permissions), not in Flotilla. */
const STORAGE_CODES = ['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS'] as const;
export type StorageCode = (typeof STORAGE_CODES)[number];

/**
 * A disk that is full, a quota, a permission or a read-only file system, named with the path it
 * happened on and what to do: exit 1 (the operation failed; nothing about the input was wrong).
 */
export class StorageError extends FlotillaError {
  constructor(
    readonly code: StorageCode,
    readonly path: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(storageMessage(code, path), undefined, options);
  }
}

/** A short write on a regular file: the disk refused the rest (full, or a quota), said as a full disk. */
export function shortWriteError(path: string): StorageError {
  return new StorageError('ENOSPC', path);
}

function storageMessage(code: StorageCode, path: string | undefined): string {
  // Without a path (a write to an open file whose caller did not say): the device, as the system says.
  const where = path ?? 'the file being written';
  switch (code) {
    case 'ENOSPC':
      return messages.noSpace(where, path ? dirname(path) : undefined);
    case 'EDQUOT':
      return messages.quotaExceeded(where);
    case 'EROFS':
      return messages.readOnlyFileSystem(where);
    default:
      return messages.permissionDenied(where);
  }
}

/**
 * The error as a StorageError when it is one of the refusals above, else undefined. Node's fs
 * errors carry `path`, and `dest` for copies (the side written); a write to an open file or stream
 * carries neither. `path` is the caller's word for where it was writing: named when the error
 * names nothing, or a transient file inside it (removed on failure, so no use to the operator).
 */
export function storageError(error: unknown, path?: string): StorageError | undefined {
  if (error instanceof StorageError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (!STORAGE_CODES.includes(code as StorageCode)) return undefined;
  const { path: source, dest } = error as NodeJS.ErrnoException & { dest?: string };
  // Space, quota and read-only refuse the side being written; a permission may be either side's.
  const named = code === 'EACCES' || code === 'EPERM' ? source ?? dest : dest ?? source;
  const inside = named !== undefined && path !== undefined && (named === path || named.startsWith(`${path}${sep}`));
  return new StorageError(code as StorageCode, named === undefined || inside ? path : named, { cause: error });
}
