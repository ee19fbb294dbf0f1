import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectDomainFiles, writeBackup } from '@flotilla/pack-domain';
import { stageApplication } from './stage.js';

/** What wrote an upload archive, in its manifest. */
const UPLOAD_TOOL = {
  name: 'master deploy',
  version: (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
};

/** An application packed for upload, in a temporary directory of its own: `dispose` removes it. */
export interface UploadArchive {
  file: string;
  sha256: string;
  bytes: number;
  dispose(): Promise<void>;
}

/**
 * Packs an application (a directory or a zip of one) for `master deploy` from a machine without
 * the domain: staged and checked exactly as a local deploy stages it, then written as pack-domain
 * writes a backup (core's protocol/upload.ts says why), holding only `apps/<name>/`, verified
 * before it is sent.
 */
export async function packForUpload(source: string, domain: string, name: string): Promise<UploadArchive> {
  const root = await mkdtemp(join(tmpdir(), 'flotilla-upload-'));
  const dispose = () => rm(root, { recursive: true, force: true });
  try {
    const appsDir = join(root, 'apps');
    await mkdir(appsDir);
    const staging = await stageApplication(source, appsDir, name);
    await rename(join(appsDir, staging), join(appsDir, name));
    const written = await writeBackup(await collectDomainFiles(root), { domain, counter: undefined, tool: UPLOAD_TOOL }, join(root, 'upload.zip'));
    return { file: written.path, sha256: written.sha256, bytes: written.bytes, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
