import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { ExitCode, FlotillaError, UsageError } from '../errors.js';
import { resolveHome } from '../layout.js';
import { storageError } from '../storage-error.js';
import { messages } from '../messages.js';
import { exitOnInterrupt } from '../process/signals.js';
import { acceptSingleDashOptions } from './argv.js';
import { commandName, commandWord, loadCommand, type CommandEntry } from './command-table.js';
import { COMPLETION_KEY, completionCommand } from './completion.js';

/** Options every binary takes (docs/contract.md#commands). */
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
  /** The binary's commands; a binary that is one command has one, `$0 …`. */
  commands: CommandEntry[];
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
 * stdout and talk on stderr, and the exit codes of docs/contract.md#exit-codes. Commands throw FlotillaError (or
 * a subclass) to fail; this is the one place that turns errors into messages and exit codes.
 */
export async function runCli(definition: CliDefinition, argv: string[] = process.argv.slice(2)): Promise<void> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.ok); // `| head` closed the pipe: not our failure
    throw error;
  });
  exitOnInterrupt();

  const args = acceptSingleDashOptions(argv, ['home', 'json', 'help', 'version', ...(definition.singleDashOptions ?? [])]);
  const version = packageVersion(definition.packageJson);
  // Scripts ask for the version in loops: it is answered before the parser is even loaded.
  if (args.length === 1 && args[0] === '--version') {
    process.stdout.write(`${version}\n`);
    return;
  }
  try {
    const cli = await commandLine(definition, args, version);
    await cli.parseAsync();
  } catch (error) {
    // Exit now: a server that failed half-way through starting may still hold sockets open, and
    // stderr is written synchronously, so nothing said is lost.
    process.exit(report(definition.name, error));
  }
}

/**
 * The parser, with every command listed for help and typo checks, and the one command the command
 * line names (or the binary's only one) loaded in full.
 */
async function commandLine(definition: CliDefinition, args: string[], version: string): Promise<Argv<GlobalOptions>> {
  const entries = [...definition.commands, completionCommand(definition.name)];
  const word = commandWord(args, COMPLETION_KEY);
  const invoked = definition.singleCommand && word !== 'completion' ? entries[0] : entries.find((entry) => commandName(entry) === word);
  if (!invoked && word !== undefined && word !== 'help' && !definition.singleCommand && !args.includes(`--${COMPLETION_KEY}`)) {
    throw new CommandLineError(messages.unknownCommand(word, await closestCommand(word, entries.map(commandName))));
  }
  const [{ default: yargs }, loaded] = await Promise.all([import('yargs'), invoked && loadCommand(invoked)]);
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
    .version(version)
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
  for (const entry of entries) cli = entry === invoked ? cli.command(loaded!) : cli.command(entry.command, entry.describe);
  skipHelpRendering(cli);
  return definition.singleCommand ? cli : cli.demandCommand(1, 'name a command');
}

/**
 * yargs renders the whole help text after it starts any command, to have it at hand should the
 * command fail (its command.js calls cacheHelpMessage): tens of milliseconds of text layout on every
 * start, the server's included. Our `fail` handler prints its own message and points at `--help`,
 * so that text is never shown; `--help` itself renders it afresh.
 */
function skipHelpRendering(cli: Argv<GlobalOptions>): void {
  const internals = (cli as unknown as { getInternalMethods?: () => { getUsageInstance(): { cacheHelpMessage(): void } } }).getInternalMethods?.();
  if (internals) internals.getUsageInstance().cacheHelpMessage = () => {};
}

/** The command a mistyped word was most likely meant to be, if one is close enough to suggest. */
async function closestCommand(word: string, names: string[]): Promise<string | undefined> {
  const { closest, distance } = await import('fastest-levenshtein');
  const candidate = closest(word, names);
  // As yargs' own suggestion: a few edits away, or it is a different word, not a typo.
  return distance(word, candidate) <= 3 ? candidate : undefined;
}

function report(binary: string, error: unknown): number {
  error = storageError(error) ?? error;
  if (error instanceof FlotillaError) {
    const hint = error instanceof CommandLineError ? `\nRun "${binary} --help" for usage.` : '';
    process.stderr.write(`${binary}: ${error.message}${hint}\n`);
    return error.exitCode;
  }
  const detail = process.env.FLOTILLA_DEBUG ? (error as Error)?.stack : (error as Error)?.message ?? String(error);
  process.stderr.write(`${binary}: unexpected error: ${detail}\n`);
  return ExitCode.failed;
}
