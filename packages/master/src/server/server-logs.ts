import {
  LOGS_PATH,
  LogLineSchema,
  MAX_LOG_LINE_CHARS,
  PeerUnreachableError,
  UnreachableError,
  readJsonLines,
  refusalOf,
  type LogLine,
  type LogSelection,
  type PeerClient,
} from '@flotilla/core';

/**
 * A server's log lines, read from the server itself over its management connection (its log file,
 * or one application's output: docs/operations.md, "Logs"). Resolves once the server accepted the
 * request, so that a refusal (an unknown application, a server that is down) is an error here,
 * not a line; then each line as it comes, and with `follow` every new one, until `signal` aborts.
 * For `master logs`, and for the web console's live tail.
 */
export async function serverLogLines(client: PeerClient, server: string, selection: LogSelection, signal: AbortSignal): Promise<AsyncIterable<LogLine>> {
  let response;
  try {
    response = await client.open('POST', LOGS_PATH, { body: selection });
  } catch (error) {
    if (!(error instanceof PeerUnreachableError)) throw error;
    throw new UnreachableError(`${server} at ${client.where} does not answer (${error.message}): is it running? Its log files stay in servers/${server}/logs/ on its node`, { cause: error });
  }
  if (response.statusCode !== 200) throw await refusalOf(response, client.where);
  const stop = () => response.destroy();
  if (signal.aborted) stop();
  signal.addEventListener('abort', stop, { once: true });
  return readJsonLines(response, LogLineSchema, `the log of ${server} at ${client.where}`, MAX_LOG_LINE_CHARS * 6 + 64); // JSON escapes a character in at most 6
}
