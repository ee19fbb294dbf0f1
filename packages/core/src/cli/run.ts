import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { ExitCode, FlotillaError, UsageError } from '../errors.js';
import { resolveHome } from '../layout.js';
import { acceptSingleDashOptions } from './argv.js';

/** Options every binary takes (SPEC section 5). */
export interface GlobalOptions {
  home?: string;
  json: boolean;
}

/** What a command needs from the conventions: where the home is and how to answer. */
export interface CommandContext {
  home: string;
  json: boolean;
  /** Prints the command's result on stdout: JSON with `--json`, the human text otherwise. */
  result(data: unknown, human: string | (() => string)): void;
  /** Talk for the operator (progress, notes): stderr, never mixed with the result. */
  say(line: string): void;
}

export interface CliDefinition {
  /** The binary's name, as typed: `master`, `pack-domain`. */
  name: string;
  /** `new URL('../package.json', import.meta.url)` of the binary's package. */
  packageJson: URL;
  description: string;
  /** Registers the binary's commands and options. */
  commands(cli: Argv<GlobalOptions>): Argv<GlobalOptions>;
  /** Long option names the command accepts with a single dash, as the reference product spells them. */
  singleDashOptions?: string[];
  /** A binary that is one command (pack-domain) has no subcommands to demand. */
  singleCommand?: boolean;
}

export function commandContext(options: GlobalOptions): CommandContext {
  const json = Boolean(options.json);
  return {
    home: resolveHome(options.home),
    json,
    result(data, human) {
      process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${typeof human === 'function' ? human() : human}\n`);
    },
    say(line) {
      process.stderr.write(`${line}\n`);
    },
  };
}

/** The command line itself does not parse (unknown option, missing argument): show where help is. */
class CommandLineError extends UsageError {}

function packageVersion(packageJson: URL): string {
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

/**
 * Runs a binary with the shared conventions: `--help`, `--version`, `--home`, `--json`, results on
 * stdout and talk on stderr, and the exit codes of SPEC section 5. Commands throw FlotillaError (or
 * a subclass) to fail; this is the one place that turns errors into messages and exit codes.
 */
export async function runCli(definition: CliDefinition, argv: string[] = process.argv.slice(2)): Promise<void> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.ok); // `| head` closed the pipe: not our failure
    throw error;
  });
  process.once('SIGINT', () => process.exit(ExitCode.interrupted));

  const args = acceptSingleDashOptions(argv, ['home', 'json', 'help', 'version', ...(definition.singleDashOptions ?? [])]);
  let cli = yargs(args)
    .scriptName(definition.name)
    .usage(definition.description)
    .option('home', {
      type: 'string',
      describe: 'Flotilla home (default: $FLOTILLA_HOME, else ~/.flotilla)',
      global: true,
      requiresArg: true,
    })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON on stdout', global: true })
    .version(packageVersion(definition.packageJson))
    .help()
    .alias('help', 'h')
    .strict()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      // yargs' own complaints (a missing option value, say) are usage errors like any other.
      if (!error || error.name === 'YError') throw new CommandLineError(error?.message ?? message);
      throw error;
    }) as unknown as Argv<GlobalOptions>;
  cli = definition.commands(cli);
  if (!definition.singleCommand) cli = cli.demandCommand(1, 'name a command');

  try {
    await cli.parseAsync();
  } catch (error) {
    // Exit now: a server that failed half-way through starting may still hold sockets open, and
    // stderr is written synchronously, so nothing said is lost.
    process.exit(report(definition.name, error));
  }
}

function report(binary: string, error: unknown): number {
  if (error instanceof FlotillaError) {
    const hint = error instanceof CommandLineError ? `\nRun "${binary} --help" for usage.` : '';
    process.stderr.write(`${binary}: ${error.message}${hint}\n`);
    return error.exitCode;
  }
  const detail = process.env.FLOTILLA_DEBUG ? (error as Error)?.stack : (error as Error)?.message ?? String(error);
  process.stderr.write(`${binary}: unexpected error: ${detail}\n`);
  return ExitCode.failed;
}
