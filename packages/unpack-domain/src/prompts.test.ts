import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import JSON5 from 'json5';
import { describe, expect, it } from 'vitest';
import { run, tempHome } from '@flotilla/test-support';
import { createDomainWithApps } from '@flotilla/test-support/domain-trees';
import { runOnTerminal } from '@flotilla/test-support/terminal';

const ADDRESS_QUESTION = 'The Master Server listener address is already set to [0.0.0.0]. Do you want to change it? (y/n): ';
const ADDRESS_PROMPT = 'Enter the Master Server base listener address: ';
const PORT_QUESTION = 'The Master Server listener port is already set to [9736]. Do you want to change it? (y/n): ';
const PORT_PROMPT = 'Enter the Master Server listener port: ';
const NODE_QUESTION = 'The Master Server nodename is already set to [node1]. Do you want to change it? (y/n): ';
const NODE_PROMPT = 'Enter the Master Server nodename: ';

async function archive(): Promise<string> {
  const home = await tempHome();
  await createDomainWithApps(home);
  const packed = await run('pack-domain', ['domain1', '--home', home]);
  expect(packed.exitCode, packed.stderr).toBe(0);
  return join(home, 'domains', 'domain1_packed.zip');
}

async function masterOf(home: string): Promise<Record<string, unknown>> {
  return JSON5.parse(await readFile(join(home, 'domains', 'domain1', 'config', 'domain.json5'), 'utf8')).master;
}

describe('unpack-domain on a terminal', () => {
  it('asks the three questions word for word, validates the answers and asks again', async () => {
    const file = await archive();
    const home = await tempHome();
    const terminal = runOnTerminal('unpack-domain', ['-f', file, '--home', home]);

    await terminal.waitForText(ADDRESS_QUESTION);
    terminal.type('y');
    await terminal.waitForText(ADDRESS_PROMPT);
    terminal.type('300.1.2.3');
    await terminal.waitForText('invalid address "300.1.2.3"');
    await terminal.waitForText(ADDRESS_PROMPT, 2);
    terminal.type('127.0.0.1');

    await terminal.waitForText(PORT_QUESTION);
    terminal.type('Y');
    await terminal.waitForText(PORT_PROMPT);
    terminal.type('70000');
    await terminal.waitForText('invalid port "70000": must be a port from 1 to 65535');
    await terminal.waitForText(PORT_PROMPT, 2);
    terminal.type('9800');

    await terminal.waitForText(NODE_QUESTION);
    terminal.type('maybe');
    await terminal.waitForText('please answer y or n');
    await terminal.waitForText(NODE_QUESTION, 2);
    terminal.type('n');

    expect(await terminal.exited).toBe(0);
    expect(terminal.output()).toContain('Unpacking the domain [domain1] configuration completed successfully.');
    expect(terminal.output()).not.toContain(NODE_PROMPT);
    expect(await masterOf(home)).toMatchObject({ address: '127.0.0.1', port: 9800, node: 'node1' });
  });

  it('keeps the configuration exactly as packed when every answer is n', async () => {
    const file = await archive();
    const home = await tempHome();
    const terminal = runOnTerminal('unpack-domain', ['-f', file, '--home', home]);
    for (const question of [ADDRESS_QUESTION, PORT_QUESTION, NODE_QUESTION]) {
      await terminal.waitForText(question);
      terminal.type('n');
    }
    expect(await terminal.exited).toBe(0);
    const packedConfig = await readFile(join(file, '..', 'domain1', 'config', 'domain.json5'), 'utf8');
    expect(await readFile(join(home, 'domains', 'domain1', 'config', 'domain.json5'), 'utf8')).toBe(packedConfig);
  });

  it('asks only what the options leave open, and nothing with --yes', async () => {
    const file = await archive();
    const home = await tempHome();
    const partly = runOnTerminal('unpack-domain', ['-f', file, '--home', home, '--address', '127.0.0.1']);
    await partly.waitForText(PORT_QUESTION);
    partly.type('n');
    await partly.waitForText(NODE_QUESTION);
    partly.type('y');
    await partly.waitForText(NODE_PROMPT);
    partly.type('nodeB');
    expect(await partly.exited).toBe(0);
    expect(partly.output()).not.toContain('listener address is already set');
    expect(await masterOf(home)).toMatchObject({ address: '127.0.0.1', port: 9736, node: 'nodeB' });

    const otherHome = await tempHome();
    const quiet = runOnTerminal('unpack-domain', ['-f', file, '--home', otherHome, '--yes']);
    expect(await quiet.exited).toBe(0);
    expect(quiet.output()).not.toContain('Do you want to change it?');
    expect(quiet.output()).toContain('Unpacking the domain [domain1] configuration completed successfully.');
  });

  it('abandons the restore on Ctrl-C at a question (exit 130), changing nothing', async () => {
    const file = await archive();
    const home = await tempHome();
    const terminal = runOnTerminal('unpack-domain', ['-f', file, '--home', home]);
    await terminal.waitForText(ADDRESS_QUESTION);
    terminal.type('\x03');
    expect(await terminal.exited).toBe(130);
    expect(terminal.output()).toContain('nothing was changed');
    expect(await readdir(join(home, 'domains')).catch(() => [])).toEqual([]);
  });
});
