/**
 * The reference product spells long options with one dash (`-backupOnBoot true`, `-overwrite`);
 * Unix tools use two. Both are accepted: a single-dash word that names a known long option is
 * rewritten to the double-dash form before parsing. Anything else (short flags like `-f`, negative
 * numbers, values) is left untouched.
 */
export function acceptSingleDashOptions(argv: readonly string[], longOptions: Iterable<string>): string[] {
  const known = new Set<string>();
  for (const option of longOptions) {
    known.add(option);
    known.add(kebabCase(option));
  }
  let afterDoubleDash = false;
  return argv.map((arg) => {
    if (arg === '--') afterDoubleDash = true;
    if (afterDoubleDash) return arg;
    const match = /^-([A-Za-z][A-Za-z0-9-]+)(=.*)?$/.exec(arg);
    return match && known.has(match[1]!) ? `-${arg}` : arg;
  });
}

export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}
