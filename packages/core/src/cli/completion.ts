import type { CommandModule } from 'yargs';
import { commandEntry, type CommandEntry } from './command-table.js';
import type { GlobalOptions } from './run.js';

/**
 * Shell completion. The scripts ask the binary itself what completes the words typed so far,
 * through yargs' completion request (`--get-yargs-completions`), so they never go stale when
 * commands or options change.
 */
export const COMPLETION_KEY = 'get-yargs-completions';

const SHELLS = ['bash', 'zsh'] as const;
type Shell = (typeof SHELLS)[number];

interface CompletionOptions extends GlobalOptions {
  shell?: Shell;
}

/** A shell function name from the binary's: `pack-domain` → `_flotilla_pack_domain`. */
function functionName(binary: string): string {
  return `_flotilla_${binary.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/**
 * yargs answers in the format of the shell named by $SHELL; each script names its own, so a zsh
 * user running bash (or the reverse) still gets what the running shell understands.
 */
export function completionScript(binary: string, shell: Shell): string {
  const fn = functionName(binary);
  if (shell === 'bash') {
    return `# ${binary} completion for bash. Install: ${binary} completion bash >> ~/.bashrc
${fn}() {
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$(SHELL=bash ZSH_NAME= ${binary} --${COMPLETION_KEY} "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)" -- "\${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F ${fn} ${binary}
`;
  }
  return `#compdef ${binary}
# ${binary} completion for zsh. Install: ${binary} completion zsh > "\${fpath[1]}/_${binary}", or add
# \`source <(${binary} completion zsh)\` to ~/.zshrc after compinit.
${fn}() {
  local -a completions
  completions=("\${(@f)$(SHELL=zsh ${binary} --${COMPLETION_KEY} "\${(@)words[1,CURRENT]}" 2>/dev/null)}")
  if [[ -n "\${completions[1]}" ]]; then
    _describe 'values' completions
  else
    _files
  fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${binary}
fi
`;
}

/** Every binary's `completion [shell]`; without a shell named, the one in $SHELL. */
export function completionCommand(binary: string): CommandEntry {
  const module: CommandModule<GlobalOptions, CompletionOptions> = {
    command: 'completion [shell]',
    describe: 'Print a completion script for bash or zsh',
    builder: (cli) =>
      cli.positional('shell', { choices: SHELLS, describe: 'The shell (default: the one in $SHELL)' }) as never,
    handler: (options) => {
      const shell = options.shell ?? (process.env.SHELL?.includes('zsh') ? 'zsh' : 'bash');
      process.stdout.write(completionScript(binary, shell));
    },
  };
  return commandEntry(module, [
    ['$0 completion bash >> ~/.bashrc', 'Complete commands and options in bash'],
    ['$0 completion zsh > "${fpath[1]}/_$0"', 'Complete commands and options in zsh'],
  ]);
}
