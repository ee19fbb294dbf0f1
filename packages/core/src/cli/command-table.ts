import type { Argv, CommandBuilder, CommandModule } from 'yargs';
import type { GlobalOptions } from './run.js';

/**
 * One command of a binary, as its help lists it. The implementation (options and handler) is
 * imported only when the command runs or its own help is asked for: a binary starts by loading
 * what one command needs, not what all of them need.
 */
export interface CommandEntry {
  /** As yargs takes it, positionals included (`status <domain>`); `$0 …` for a binary that is one command. */
  command: string;
  /** The same text as the loaded module's `describe`: help lists commands without loading them. */
  describe: string;
  /** `[command line, what it does]`, `$0` standing for the binary, shown in the command's help. */
  examples: ReadonlyArray<readonly [string, string]>;
  // The options type is the command's own: the table holds commands of every shape.
  load(): Promise<CommandModule<GlobalOptions, any>>;
}

/** The entry of a command whose module is light enough to import before parsing, as a binary's only command is. */
export function commandEntry(module: CommandModule<GlobalOptions, any>, examples: CommandEntry['examples']): CommandEntry {
  return { command: module.command as string, describe: module.describe as string, examples, load: async () => module };
}

export function commandName(entry: Pick<CommandEntry, 'command'>): string {
  return entry.command.split(' ')[0]!;
}

/** Global options that take a value: the word after them is not the command. */
const VALUE_OPTIONS = new Set(['--home']);

/**
 * The command word of a command line, as yargs will find it: the first argument that is neither
 * an option nor a global option's value. A completion request (`--get-yargs-completions master
 * sta…`) is asked about the command line being completed, after the binary's own name.
 */
export function commandWord(args: readonly string[], completionKey: string): string | undefined {
  const completing = args.indexOf(`--${completionKey}`);
  const words = completing >= 0 ? args.slice(completing + 2) : args;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') return words[i + 1];
    if (!word.startsWith('-')) return word;
    if (VALUE_OPTIONS.has(word)) i++;
  }
  return undefined;
}

/** The entry, with its implementation loaded and its examples added to its help. */
export async function loadCommand(entry: CommandEntry): Promise<CommandModule<GlobalOptions, any>> {
  const module = await entry.load();
  const builder = module.builder;
  return {
    ...module,
    builder: (cli: Argv<GlobalOptions>) => {
      const built = typeof builder === 'function' ? (builder as (cli: Argv<GlobalOptions>) => Argv<GlobalOptions>)(cli) : cli.options(builder ?? {});
      return entry.examples.reduce((withExamples, [line, does]) => withExamples.example(line, does), built);
    },
  } satisfies { builder: CommandBuilder<GlobalOptions, any> };
}
