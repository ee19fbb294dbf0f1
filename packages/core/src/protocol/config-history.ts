import { z } from 'zod';
import { HISTORY_VERSION } from '../config/history.js';
import { NameSchema } from '../config/schema.js';
import { Sha256Schema, SizeSchema } from '../file-entry.js';
import { API_PREFIX } from './sync.js';

/**
 * The configuration history through the MASTER (docs/operations.md, "Configuration history and
 * rollback"): the versions `config/.history/` keeps, and bringing one back as a new generation.
 */
export const CONFIG_HISTORY_PATH = `${API_PREFIX}/config/history`;
export const CONFIG_ROLLBACK_PATH = `${API_PREFIX}/config/rollback`;

const VersionSchema = z.string().regex(HISTORY_VERSION, { error: 'must be a version as master history lists it: domain_YYYYMMDD_HHMMSS' });
const generationNumber = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Far above the 50 versions kept. */
const MAX_VERSIONS = 1_000;

/** The answer of `GET /v2/config/history`: the kept versions, oldest first, and what is in use now. */
export const ConfigHistorySchema = z.strictObject({
  domain: NameSchema,
  current: z.strictObject({ generation: generationNumber, bytes: SizeSchema, sha256: Sha256Schema }),
  versions: z
    .array(
      z.strictObject({
        version: VersionSchema,
        /** Until when it was the configuration (UTC): the change that replaced it. */
        replacedAt: z.iso.datetime(),
        bytes: SizeSchema,
        /** Of its text: equal to the current one's when it is what is in use again (after a rollback). */
        sha256: Sha256Schema,
      }),
    )
    .max(MAX_VERSIONS),
});
export type ConfigHistory = z.output<typeof ConfigHistorySchema>;

/** `POST /v2/config/rollback`: bring `version` back as a new generation. */
export const RollbackRequestSchema = z.strictObject({ version: VersionSchema });
export type RollbackRequest = z.output<typeof RollbackRequestSchema>;

export const RollbackResultSchema = z.strictObject({ domain: NameSchema, generation: generationNumber, version: VersionSchema });
export type RollbackResult = z.output<typeof RollbackResultSchema>;
