/**
 * Real applications for tests: the fixtures in packages/test-support/apps/ are installed as their users
 * install them, `npm ci --omit=dev` from the committed lockfile (the npm registry, or npm's cache),
 * into the directory a test deploys from.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:net';
import { execa } from 'execa';
import { repoRoot } from './index.js';

export type FixtureApp = 'express-hello' | 'ws-echo';

export async function installFixtureApp(app: FixtureApp, dir: string): Promise<void> {
  await cp(join(repoRoot, 'packages', 'test-support', 'apps', app), dir, { recursive: true });
  await execa('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, timeout: 120_000 });
}

/**
 * One request sent byte for byte as given (fetch would normalise `..` itself, which is the point
 * under test); resolves with the status and the body of the answer.
 */
export function rawRequest(port: number, target: string, headers: Record<string, string> = {}): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const lines = [`GET ${target} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split);
      resolve({ status: Number(head.split(' ')[1]), head, body: text.slice(split + 4) });
    });
  });
}
