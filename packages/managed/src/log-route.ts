import {
  APP_STREAMS,
  HANDLED,
  LOGS_PATH,
  LogSelectionSchema,
  UsageError,
  appLogFile,
  applicationsOf,
  parseMessage,
  sendJsonLines,
  tailLogFiles,
  type DomainConfig,
  type Logger,
  type Route,
  type ServerLayout,
  type TailedFile,
} from '@flotilla/core';

export interface LogRouteOptions {
  server: string;
  files: ServerLayout;
  config: () => DomainConfig;
  /** False in the foreground: the server's own log goes to its terminal, there is no file to read. */
  logsToFile: boolean;
  log: Logger;
}

/**
 * `POST /v2/logs` on the management port, which the MASTER calls for `master logs`
 * (docs/operations.md, "Logs"): the server's own log or one of its applications' output, the file
 * chosen here from the names, never taken from the request.
 */
export function logRoute(options: LogRouteOptions): Route {
  return {
    method: 'POST',
    path: LOGS_PATH,
    handle: async ({ body, sender, request, response }) => {
      const selection = parseMessage(LogSelectionSchema, body, `a log request from ${sender}`, options.log);
      const files = chosenFiles(options, selection.app, selection.stream);
      const stop = new AbortController();
      response.once('close', () => stop.abort());
      request.socket.setKeepAlive(true, 1_000);
      await sendJsonLines(response, tailLogFiles(files, { lines: selection.lines, follow: selection.follow, signal: stop.signal }));
      return HANDLED;
    },
  };
}

function chosenFiles(options: LogRouteOptions, app: string | undefined, stream: TailedFile['stream']): TailedFile[] {
  const { server, files } = options;
  if (app === undefined) {
    if (stream) throw new UsageError(`--stream ${stream} is one of an application's outputs: name the application with --app`);
    if (!options.logsToFile) {
      throw new UsageError(`${server} runs in the foreground and logs to its terminal, not to a file; started with --detach, it logs to servers/${server}/logs/${server}.log`);
    }
    return [{ path: files.logFile }];
  }
  const apps = applicationsOf(options.config(), server);
  if (!apps.includes(app)) throw new UsageError(`${server} runs no application named ${app} (applications: ${apps.join(', ') || 'none'})`);
  return (stream ? [stream] : APP_STREAMS).map((each) => ({ path: appLogFile(files, app, each), stream: each }));
}
