import { z } from 'zod';
import { NameSchema } from '../config/schema.js';
import { SERVER_STATUSES } from './sync.js';

/** Starting, stopping or restarting servers through the MASTER (docs/operations.md, "Servers through the MASTER"). */
export const SERVER_OPERATIONS = ['start', 'stop', 'restart'] as const;
export type ServerOperation = (typeof SERVER_OPERATIONS)[number];

/** More names than a domain has servers and clusters is not a request anyone means. */
const MAX_TARGETS = 1_000;

/** `POST /v2/servers/operation`: servers and clusters by name; `rolling` takes them one at a time. */
export const ServerOperationRequestSchema = z.strictObject({
  operation: z.enum(SERVER_OPERATIONS),
  targets: z.array(NameSchema).min(1).max(MAX_TARGETS),
  rolling: z.boolean().default(false),
});
export type ServerOperationRequest = z.input<typeof ServerOperationRequestSchema>;

/** One server's outcome: `ok` once it is RUNNING with its applications answering (or SHUTDOWN). */
export const ServerOperationResultSchema = z.strictObject({
  server: NameSchema,
  ok: z.boolean(),
  status: z.enum(SERVER_STATUSES),
  error: z.string().max(4096).optional(),
});
export type ServerOperationResult = z.output<typeof ServerOperationResultSchema>;

export const ServerOperationAnswerSchema = z.strictObject({
  operation: z.enum(SERVER_OPERATIONS),
  results: z.array(ServerOperationResultSchema).max(MAX_TARGETS),
});
export type ServerOperationAnswer = z.output<typeof ServerOperationAnswerSchema>;

/** How long one server may take to come up (sync, apps started) or to stop, before it counts as failed. */
export const SERVER_OPERATION_WAIT_MS = 90_000;

/** A client waits for every server of a request one after the other, at worst (a rolling restart: stop and start). */
export function serverOperationTimeoutMs(servers: number): number {
  return SERVER_OPERATION_WAIT_MS * 2 * Math.max(1, servers) + 10_000;
}
