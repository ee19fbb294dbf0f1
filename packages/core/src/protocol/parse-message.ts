import type { z } from 'zod';
import { IntegrityError } from '../errors.js';
import type { Logger } from '../log.js';
import { PROTOCOL_VERSION } from './sync.js';

/**
 * A peer sent something that is not our protocol: malformed, of another version, or outside its
 * limits. Exit 4, as for any other failed integrity check: nothing it said was used.
 */
export class ProtocolError extends IntegrityError {}

/** What a message's refusal quotes of it at most: enough to recognise it, never megabytes. */
const MAX_QUOTED = 200;

/**
 * Checks a message received from a peer against its schema and returns it typed. `input` is the
 * JSON text as received (a string or a Buffer), or a value already parsed from it. `what` names
 * the message and its sender for the refusal ("the report of server1 from 10.0.0.5"). With `log`,
 * a refusal is also logged (SYS-0002): for servers, whose callers only see an HTTP answer.
 */
export function parseMessage<Schema extends z.ZodType>(schema: Schema, input: unknown, what: string, log?: Logger): z.output<Schema> {
  try {
    return check(schema, input, what);
  } catch (error) {
    if (error instanceof ProtocolError) log?.warn('SYS-0002', error.message);
    throw error;
  }
}

function check<Schema extends z.ZodType>(schema: Schema, input: unknown, what: string): z.output<Schema> {
  let value = input;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    try {
      value = JSON.parse(input.toString('utf8'));
    } catch (error) {
      throw new ProtocolError(`${what} is not JSON (${clip((error as Error).message)})`);
    }
  }
  // Said first and on its own: a peer of another version fails everything else too.
  const protocol = (value as { protocol?: unknown } | null)?.protocol;
  if (typeof value === 'object' && value !== null && 'protocol' in value && protocol !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `${what} speaks protocol version ${clip(JSON.stringify(protocol) ?? String(protocol))}, this Flotilla speaks ${PROTOCOL_VERSION}: run the same Flotilla version on the MASTER and its servers`,
    );
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const { path, message } = result.error.issues[0]!;
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
  throw new ProtocolError(`${what} is not a valid message of Flotilla protocol ${PROTOCOL_VERSION}: ${clip(`${formatPath(path)}: ${message}`)}${more}`);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

function clip(text: string): string {
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
}
