import { z } from 'zod';
import { ApplicationSchema, NameSchema } from '../config/schema.js';
import { API_PREFIX } from './sync.js';

/**
 * `master deploy` from a machine without the domain (docs/protocol.md, "Uploads"): the application
 * travels as an archive in the backup format (pack-domain's zip with its manifest: modes, sizes and
 * SHA-256 of every file), holding only `apps/<name>/`. The body is streamed to disk, hashed on
 * arrival against the hash the request's signature covers, checked entry by entry as a restore
 * checks a backup, and installed through the same change as a local deploy.
 */
export const DEPLOY_UPLOAD_PATH = `${API_PREFIX}/deploy/upload`;

/**
 * The largest upload the MASTER takes. An application as `npm ci --omit=dev` leaves it is tens to a
 * few hundred megabytes compressed; 2 GiB is far above that and still bounds what one request can
 * make the MASTER's disk hold before the archive is checked.
 */
export const MAX_UPLOAD_BYTES = 2 * 1024 ** 3;

/** The deploy an upload asks for, in the request's query (covered by its signature). */
export const DeployUploadSchema = z.strictObject({
  name: NameSchema,
  context: ApplicationSchema.shape.context,
  targets: z.array(NameSchema).min(1).max(10_000),
});
export type DeployUpload = z.output<typeof DeployUploadSchema>;

/** The query an upload carries its deploy in. */
export function deployUploadQuery(upload: DeployUpload): string {
  return new URLSearchParams({ name: upload.name, context: upload.context, targets: upload.targets.join(',') }).toString();
}

/** The deploy an upload's query asks for, not yet checked: parse it with DeployUploadSchema. */
export function deployUploadOf(query: URLSearchParams): unknown {
  const targets = query.get('targets');
  return { name: query.get('name') ?? undefined, context: query.get('context') ?? undefined, targets: targets === null ? undefined : targets.split(',') };
}
