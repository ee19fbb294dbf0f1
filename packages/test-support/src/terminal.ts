/** Test-only: a binary run on a pseudo-terminal, as an operator would run it, with its output collected. */
import { spawn, type IPty } from 'node-pty';
import { binaryPath, onCleanup, waitFor, type Binary } from './index.js';

export interface TerminalRun {
  /** Everything written to the terminal so far (stdout and stderr alike), escape sequences included. */
  output(): string;
  /** Waits until `text` has appeared `times` times in the output. */
  waitForText(text: string, times?: number): Promise<void>;
  type(line: string): void;
  /** Signals the process on the terminal, as the operator's Ctrl-C or a kill would. */
  kill(signal: NodeJS.Signals): void;
  exited: Promise<number>;
}

export function runOnTerminal(binary: Binary, args: string[], env: Record<string, string> = {}): TerminalRun {
  let output = '';
  const pty: IPty = spawn(process.execPath, [binaryPath(binary), ...args], {
    // Wide enough that no prompt is ever wrapped.
    cols: 300,
    rows: 40,
    env: { ...process.env, FLOTILLA_HOME: '', ...env } as Record<string, string>,
  });
  pty.onData((data) => {
    output += data;
  });
  const exited = new Promise<number>((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
  let running = true;
  void exited.then(() => {
    running = false;
  });
  onCleanup(async () => {
    if (running) pty.kill('SIGKILL');
    await exited;
  });
  const count = (text: string) => output.split(text).length - 1;
  return {
    output: () => output,
    waitForText: async (text, times = 1) => {
      await waitFor(`"${text}" on the terminal (so far: ${JSON.stringify(output.slice(-300))})`, () => count(text) >= times);
    },
    type: (line) => pty.write(`${line}\r`),
    kill: (signal) => pty.kill(signal),
    exited,
  };
}
