import { mkdir, open as openFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import unzipper from 'unzipper';
import { IntegrityError, byteLimit } from '@flotilla/core';

/** Far above any real application; a zip that claims more is refused before it is read. */
const MAX_ENTRIES = 100_000;
const MAX_TOTAL_BYTES = 4 * 1024 ** 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const HOST_UNIX = 3;

function pathProblem(path: string): string | undefined {
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is absolute';
  if (path.includes('\\')) return 'contains a backslash';
  if (/[\u0000-\u001f]/.test(path)) return 'contains a control character';
  if (path.split('/').some((part) => part === '..')) return 'contains ".." and would leave the application';
  return undefined;
}

/**
 * Extracts an application zip into `target`, refusing (exit 4) anything unsafe before writing a
 * byte: paths that leave the target, links and special files, duplicates, encrypted entries, and
 * entries that inflate to more than they declare. The central directory is read and judged whole
 * first (unzipper's Open), never the streaming extractor, which trusts local headers.
 */
export async function extractApplicationZip(zip: string, target: string): Promise<void> {
  let directory: Awaited<ReturnType<typeof unzipper.Open.file>>;
  try {
    directory = await unzipper.Open.file(zip);
  } catch (error) {
    throw new IntegrityError(`${zip} is not a readable zip archive (${(error as Error).message})`);
  }
  const files = directory.files;
  if (files.length > MAX_ENTRIES) throw new IntegrityError(`${zip} has ${files.length} entries; at most ${MAX_ENTRIES} are accepted`);
  const seen = new Set<string>();
  let declared = 0;
  for (const file of files) {
    const problem = pathProblem(file.path);
    if (problem) throw new IntegrityError(`${zip}: entry ${JSON.stringify(file.path)} ${problem}`);
    const type = file.versionMadeBy >> 8 === HOST_UNIX ? (file.externalFileAttributes >>> 16) & S_IFMT : 0;
    if (type === S_IFLNK) throw new IntegrityError(`${zip}: entry ${JSON.stringify(file.path)} is a symbolic link; applications are plain files`);
    if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw new IntegrityError(`${zip}: entry ${JSON.stringify(file.path)} is not a regular file`);
    if (file.flags & 0x1) throw new IntegrityError(`${zip}: entry ${JSON.stringify(file.path)} is encrypted`);
    const key = file.path.replace(/\/+$/, '');
    if (seen.has(key)) throw new IntegrityError(`${zip}: entry ${JSON.stringify(file.path)} appears twice`);
    seen.add(key);
    declared += file.uncompressedSize;
  }
  if (declared > MAX_TOTAL_BYTES) throw new IntegrityError(`${zip} would inflate to ${declared} bytes; at most ${MAX_TOTAL_BYTES} are accepted`);

  for (const file of files) {
    const destination = join(target, file.path);
    if (file.type === 'Directory' || file.path.endsWith('/')) {
      await mkdir(destination, { recursive: true });
      continue;
    }
    await mkdir(dirname(destination), { recursive: true });
    const cap = byteLimit(
      file.uncompressedSize,
      () => new IntegrityError(`${zip}: entry ${JSON.stringify(file.path)} inflates to more than the ${file.uncompressedSize} bytes it declares`),
    );
    const mode = file.versionMadeBy >> 8 === HOST_UNIX ? (file.externalFileAttributes >>> 16) & 0o755 : 0o644;
    const handle = await openFile(destination, 'wx', mode || 0o644);
    try {
      await pipeline(file.stream(), cap, handle.createWriteStream());
    } catch (error) {
      if (error instanceof IntegrityError) throw error;
      throw new IntegrityError(`${zip}: entry ${JSON.stringify(file.path)} cannot be read (${(error as Error).message})`);
    }
  }
}
