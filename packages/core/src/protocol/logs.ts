import { z } from 'zod';
import { NameSchema } from '../config/schema.js';
import { APP_STREAMS } from '../layout.js';
import { API_PREFIX } from './sync.js';

/**
 * `master logs` (docs/operations.md, "Logs"): the CLI asks the MASTER (`LogRequest`), which asks
 * the server itself over its management connection (`LogSelection`); both answer JSON lines, one
 * `LogLine` each, until the log's end, or for as long as the asker stays with `follow`. Nobody
 * names a file: the server chooses it from its own name and the application's.
 */
export const LOGS_PATH = `${API_PREFIX}/logs`;

/** Enough to see what led up to now without scrolling for minutes. */
export const DEFAULT_LOG_LINES = 50;
/** More than this is a copy of the file, not a look at its end: scp is for that. */
export const MAX_LOG_LINES = 10_000;
/** An application's line is cut at 64 KiB (timestamped-lines.ts); a server's log lines are far shorter. */
export const MAX_LOG_LINE_CHARS = 80 * 1024;

export const LogSelectionSchema = z.strictObject({
  /** An application's output; absent, the server's own log. */
  app: NameSchema.optional(),
  /** One of an application's streams; absent, both, in the order of their timestamps. */
  stream: z.enum(APP_STREAMS).optional(),
  lines: z.number().int().min(0).max(MAX_LOG_LINES).default(DEFAULT_LOG_LINES),
  follow: z.boolean().default(false),
});
export type LogSelection = z.input<typeof LogSelectionSchema>;

export const LogRequestSchema = LogSelectionSchema.extend({ server: NameSchema });
export type LogRequest = z.input<typeof LogRequestSchema>;

export const LogLineSchema = z.strictObject({
  line: z.string().max(MAX_LOG_LINE_CHARS),
  /** Which of an application's streams the line is from. */
  stream: z.enum(APP_STREAMS).optional(),
});
export type LogLine = z.output<typeof LogLineSchema>;
