import { createInterface } from 'node:readline';
import { ADDRESS_RULE, ExitCode, FlotillaError, NAME_RULE, isValidAddress, isValidName, type DomainConfig } from '@flotilla/core';
import type { MasterChanges } from './master-changes.js';
import { prompts, unpackMessages } from './messages.js';

/** Where questions go and answers come from: the terminal, or a script in tests. */
export interface Questioner {
  ask(prompt: string): Promise<string>;
  tell(line: string): void;
  close(): void;
}

/**
 * Questions on the terminal: prompts on stderr (stdout holds only the result), answers from stdin.
 * Ctrl-C or the end of input abandons the restore before anything was changed (exit 130).
 */
export function terminalQuestioner(): Questioner {
  const lines = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  lines.on('SIGINT', () => lines.close());
  return {
    ask: (prompt) =>
      new Promise((resolve, reject) => {
        const abandoned = () => reject(new FlotillaError(unpackMessages.interrupted(), ExitCode.interrupted));
        lines.once('close', abandoned);
        lines.question(prompt, (answer) => {
          lines.off('close', abandoned);
          resolve(answer.trim());
        });
      }),
    tell: (line) => process.stderr.write(`${line}\n`),
    close: () => lines.close(),
  };
}

type Master = DomainConfig['master'];

/**
 * Asks the three questions of docs/contract.md#messages for every setting `given` does not already answer,
 * each answer validated and asked again until it is valid.
 */
export async function askMasterChanges(current: Master, given: MasterChanges, questioner: Questioner): Promise<MasterChanges> {
  const answers: MasterChanges = { ...given };
  if (given.address === undefined && (await wantsChange(questioner, prompts.changeAddress(current.address)))) {
    answers.address = await askValid(questioner, prompts.enterAddress, (answer) =>
      isValidAddress(answer) ? answer : invalid('address', answer, ADDRESS_RULE),
    );
  }
  if (given.port === undefined && (await wantsChange(questioner, prompts.changePort(current.port)))) {
    answers.port = await askValid(questioner, prompts.enterPort, (answer) => {
      const port = /^\d{1,5}$/.test(answer) ? Number(answer) : Number.NaN;
      return port >= 1 && port <= 65535 ? port : invalid('port', answer, 'a port from 1 to 65535');
    });
  }
  if (given.node === undefined && (await wantsChange(questioner, prompts.changeNode(current.node)))) {
    answers.node = await askValid(questioner, prompts.enterNode, (answer) =>
      isValidName(answer) ? answer : invalid('node name', answer, NAME_RULE),
    );
  }
  return answers;
}

class InvalidAnswer {
  constructor(readonly message: string) {}
}

function invalid(what: string, answer: string, rule: string): InvalidAnswer {
  return new InvalidAnswer(prompts.invalid(what, answer, rule));
}

async function wantsChange(questioner: Questioner, question: string): Promise<boolean> {
  return askValid(questioner, question, (answer) => {
    const word = answer.toLowerCase();
    if (word === 'y' || word === 'yes') return true;
    if (word === 'n' || word === 'no') return false;
    return new InvalidAnswer(prompts.yesOrNo);
  });
}

async function askValid<T>(questioner: Questioner, question: string, check: (answer: string) => T | InvalidAnswer): Promise<T> {
  for (;;) {
    const result = check(await questioner.ask(question));
    if (!(result instanceof InvalidAnswer)) return result;
    questioner.tell(result.message);
  }
}
