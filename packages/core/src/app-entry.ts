import { lstat, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError } from './errors.js';

/**
 * An application's entry point (docs/applications.md): `package.json` "main" when that file exists,
 * else `index.js`; undefined when it has neither. A "main" outside the application (absolute, or
 * climbing out with `..`) is refused, the message beginning with `shownAs`: that file is in no generation, so no one checked it.
 */
export async function applicationEntry(dir: string, shownAs = `application ${dir}`): Promise<string | undefined> {
  const main = await readFile(join(dir, 'package.json'), 'utf8').then((text) => (JSON.parse(text) as { main?: unknown }).main, () => undefined);
  if (typeof main === 'string') {
    const inside = relative(resolve(dir), resolve(dir, main));
    if (isAbsolute(main) || inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      throw new UsageError(`${shownAs}: package.json "main" ${JSON.stringify(main)} is outside the application; name a file inside it`);
    }
  }
  for (const candidate of [typeof main === 'string' ? main : undefined, 'index.js']) {
    if (candidate && (await lstat(join(dir, candidate)).then((info) => info.isFile(), () => false))) return candidate;
  }
  return undefined;
}
