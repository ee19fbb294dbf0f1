import {
  APP_STREAMS,
  LOGS_PATH,
  LogLineSchema,
  MAX_LOG_LINES,
  MAX_LOG_LINE_CHARS,
  ProtocolError,
  UnreachableError,
  UsageError,
  assertName,
  commandContext,
  readJsonLines,
  refusalOf,
  type AppStream,
  type CommandModule,
  type GlobalOptions,
  type LogLine,
  type LogRequest,
  type MasterOptions,
  masterOptions,
} from '@flotilla/core/client';
import { connectMaster, withMaster } from '../master-client.js';

interface LogsOptions extends GlobalOptions, MasterOptions {
  domain: string;
  server: string;
  app?: string;
  stream?: AppStream;
  lines?: number;
  follow: boolean;
}

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (.*)$/s;

/** `--json`: the server's log lines are JSON already; an application's become one document each. */
function jsonLine(options: LogsOptions, { line, stream }: LogLine): string {
  if (!options.app) return line.startsWith('{') ? line : JSON.stringify({ server: options.server, line });
  const stamped = STAMP.exec(line);
  return JSON.stringify({ server: options.server, app: options.app, stream, ...(stamped ? { time: stamped[1], line: stamped[2] } : { line }) });
}

function request(options: LogsOptions): LogRequest {
  assertName('server', options.server);
  if (options.app !== undefined) assertName('application', options.app);
  const lines = options.lines;
  if (lines !== undefined && !(Number.isInteger(lines) && lines >= 0 && lines <= MAX_LOG_LINES)) {
    throw new UsageError(`--lines ${lines}: expected a whole number from 0 to ${MAX_LOG_LINES}`);
  }
  return { server: options.server, app: options.app, stream: options.stream, lines, follow: options.follow };
}

export const logsCommand: CommandModule<GlobalOptions, LogsOptions> = {
  command: 'logs <domain> <server>',
  describe: "A server's log, or one application's output, read through the MASTER from the server itself",
  builder: (cli) =>
    masterOptions(cli)
      .positional('domain', { type: 'string', demandOption: true })
      .positional('server', { type: 'string', demandOption: true })
      .option('app', { type: 'string', requiresArg: true, describe: "An application's stdout and stderr instead of the server's log" })
      .option('stream', { choices: APP_STREAMS, requiresArg: true, describe: 'Only one of the application\'s streams' })
      .option('lines', { type: 'number', requiresArg: true, describe: 'How many of the last lines (default 50)' })
      .option('follow', { type: 'boolean', default: false, describe: 'Then every new line, until Ctrl-C' }) as never,
  handler: async (options) => {
    const context = commandContext(options);
    const body = request(options);
    const connection = await connectMaster(context.home, options.domain, options, 'read');
    await withMaster(
      connection,
      async (client) => {
        const response = await client.open('POST', LOGS_PATH, { body });
        if (response.statusCode !== 200) throw await refusalOf(response, client.where);
        const where = `the log of ${options.server} through the MASTER at ${client.where}`;
        try {
          for await (const line of readJsonLines(response, LogLineSchema, where, MAX_LOG_LINE_CHARS * 6 + 64)) {
            process.stdout.write(`${context.json ? jsonLine(options, line) : line.line}\n`);
          }
        } catch (error) {
          if (error instanceof ProtocolError) throw error;
          throw new UnreachableError(`${where} broke off (${(error as Error).message}): the MASTER or ${options.server} went away`, { cause: error });
        }
        if (options.follow) throw new UnreachableError(`${where} ended: the MASTER or ${options.server} stopped`);
      },
      'read',
    );
  },
};
