/**
 * What a binary's start-up path needs, and nothing heavier: the runner, the command table's types
 * and the shared option helpers. Command implementations import the rest from the package root
 * when they run.
 */
export { runCli, commandContext, type CliDefinition, type CommandContext, type GlobalOptions } from './run.js';
export { commandEntry, type CommandEntry } from './command-table.js';
export { acceptSingleDashOptions, kebabCase } from './argv.js';
export { parsePortOption } from './options.js';
export type { Argv, CommandModule } from 'yargs';
export * from './master-options.js';
