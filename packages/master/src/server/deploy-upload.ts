import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  DeployUploadSchema,
  IntegrityError,
  MAX_UPLOAD_BYTES,
  UsageError,
  byteLimit,
  deployUploadOf,
  parseMessage,
  storageError,
  type DeployUpload,
  type DomainLayout,
  type Logger,
  type RequestContext,
} from '@flotilla/core';
import { extractBackup, inspectBackup } from '@flotilla/unpack-domain';
import { STAGING_PREFIX } from '../deploy/stage.js';

/** The file an upload is received into, inside its own directory under the MASTER's uploads. */
const RECEIVED_NAME = 'upload.zip';

/**
 * Receives an application uploaded by `master deploy` from another machine (core's
 * protocol/upload.ts) and stages it in apps/ exactly as a local deploy stages one: streamed to
 * disk within MAX_UPLOAD_BYTES, hashed as it arrives against the hash the signature covers, then
 * checked as a restore checks a backup (paths, types, sizes, hashes, manifest) while it is
 * extracted. It must hold `apps/<name>/` and nothing else. Whatever is refused leaves nothing
 * behind. Returns the deploy it asks for and its staging directory's name in apps/.
 */
export async function receiveUpload(layout: DomainLayout, uploadsDir: string, context: RequestContext, log: Logger): Promise<DeployUpload & { staging: string }> {
  const what = `an application upload from ${context.sender}`;
  const upload = parseMessage(DeployUploadSchema, deployUploadOf(context.query), what, log);
  await mkdir(uploadsDir, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(uploadsDir, 'upload-'));
  try {
    const received = join(dir, RECEIVED_NAME);
    const hash = createHash('sha256');
    const limit = byteLimit(MAX_UPLOAD_BYTES, () => new UsageError(`${what} is larger than ${MAX_UPLOAD_BYTES} bytes, the most the MASTER takes: nothing was installed`), (chunk) => hash.update(chunk));
    await pipeline(context.request, limit, createWriteStream(received, { flags: 'wx', mode: 0o600 }));
    if (hash.digest('hex') !== context.bodyHash) {
      throw new IntegrityError(`${what}: the archive that arrived is not the one signed (SHA-256 differs): nothing was installed; deploy again`);
    }
    const backup = await inspectBackup(received);
    const prefix = `apps/${upload.name}/`;
    const outside = backup.manifest.files.find((file) => !file.path.startsWith(prefix));
    if (outside) throw new IntegrityError(`${what}: entry ${JSON.stringify(outside.path)} is not inside ${prefix}: an upload holds one application, nothing was installed`);
    if (backup.manifest.files.length === 0) throw new UsageError(`${what} holds no files of ${upload.name}: nothing was installed`);
    const extracted = join(dir, 'extracted');
    await mkdir(extracted);
    await extractBackup(backup, extracted);
    const staging = `${STAGING_PREFIX}${upload.name}-${randomBytes(6).toString('hex')}.tmp`;
    await rename(join(extracted, 'apps', upload.name), join(layout.appsDir, staging));
    log.info('MA-0026', `received ${upload.name} from ${context.sender}: ${backup.manifest.files.length} files, ${backup.bytes} bytes`);
    return { ...upload, staging };
  } catch (caught) {
    // A write into the open upload file says no path: name the directory it was filling.
    const error = storageError(caught, uploadsDir) ?? caught;
    log.warn('MA-0027', `refused ${what}: ${(error as Error).message}`);
    // The body may still be on its way: the refusal ends the connection rather than read it.
    context.response.setHeader('connection', 'close');
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Uploads a killed MASTER was receiving: never installed, removed at its next start. */
export async function clearUploads(uploadsDir: string): Promise<void> {
  await rm(uploadsDir, { recursive: true, force: true });
}
