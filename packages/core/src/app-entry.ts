import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * An application's entry point (SPEC section 9): `package.json` "main" when that file exists,
 * else `index.js`; undefined when it has neither.
 */
export async function applicationEntry(dir: string): Promise<string | undefined> {
  const main = await readFile(join(dir, 'package.json'), 'utf8').then((text) => (JSON.parse(text) as { main?: string }).main, () => undefined);
  for (const candidate of [main, 'index.js']) {
    if (candidate && (await lstat(join(dir, candidate)).then((info) => info.isFile(), () => false))) return candidate;
  }
  return undefined;
}
