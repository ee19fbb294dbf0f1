import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempHome } from '@flotilla/test-support';

const SCRIPT = join(repoRoot, 'scripts', 'system-packages.sh');
const root = process.getuid?.() === 0;

/**
 * A machine as the script sees it: a PATH holding only a dpkg-query that reports every package
 * installed but those in FAKE_MISSING (or those apt-get has installed since), and an apt-get that
 * logs its calls and "installs" by leaving a marker. Both use shell builtins only, since nothing
 * else is on that PATH.
 */
async function fakeMachine(options: { missing?: string[]; dpkg?: boolean } = {}) {
  const dir = await tempHome();
  const aptLog = join(dir, 'apt-get.log');
  const fakes: Record<string, string> = {};
  if (options.dpkg !== false) {
    fakes['dpkg-query'] = `#!/bin/bash
for arg; do
  case "$arg" in -*) continue ;; esac
  if [[ " $FAKE_MISSING " == *" $arg "* && ! -e "$FAKE_DIR/installed-$arg" ]]; then echo "dpkg-query: no packages found matching $arg" >&2; else echo "$arg ii "; fi
done
`;
  }
  fakes['apt-get'] = `#!/bin/bash
echo "$*" >> "$FAKE_DIR/apt-get.log"
if [ "$1" = install ]; then for arg; do case "$arg" in install|-*) ;; *) : > "$FAKE_DIR/installed-$arg" ;; esac; done; fi
`;
  for (const [name, text] of Object.entries(fakes)) {
    await writeFile(join(dir, name), text);
    await chmod(join(dir, name), 0o755);
  }
  const env = { PATH: dir, FAKE_DIR: dir, FAKE_MISSING: (options.missing ?? []).join(' ') };
  return {
    run: async (extra: Record<string, string> = {}) => {
      const started = performance.now();
      const result = await execa('/bin/bash', [SCRIPT], { env: { ...env, ...extra }, extendEnv: false, reject: false });
      return { ...result, ms: performance.now() - started };
    },
    aptCalls: async () => (await readFile(aptLog, 'utf8').catch(() => '')).split('\n').filter(Boolean),
  };
}

describe('scripts/system-packages.sh, which npm test and .ci/run run before any suite', () => {
  it('everything present: exit 0 at once, silent, apt-get never called (no update)', async () => {
    const machine = await fakeMachine();
    const result = await machine.run();
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.ms).toBeLessThan(1_000);
    expect(await machine.aptCalls()).toEqual([]);
  });

  it('nftables missing where it may not install: refuses with the exact command, installs nothing', async () => {
    const machine = await fakeMachine({ missing: ['nftables'] });
    const result = await machine.run({ FLOTILLA_INSTALL_PACKAGES: 'no' });
    expect(result.exitCode).toBe(1);
    const why = root ? 'FLOTILLA_INSTALL_PACKAGES=no' : 'not root';
    expect(result.stderr).toContain(`missing, not installed (${why}): nftables`);
    expect(result.stderr.split('\n')).toContain(`  ${root ? '' : 'sudo '}apt-get install -y nftables`);
    expect(await machine.aptCalls()).toEqual([]);
  });

  it.runIf(root)('as root: updates the lists, then installs only what is missing', async () => {
    const machine = await fakeMachine({ missing: ['nftables', 'prometheus'] });
    const result = await machine.run();
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('installing nftables prometheus');
    expect(await machine.aptCalls()).toEqual(['update -qq', 'install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 nftables prometheus']);
  });

  it('not a Debian machine (no dpkg-query): says it cannot check, and lets the suites run', async () => {
    const machine = await fakeMachine({ dpkg: false });
    const result = await machine.run();
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('no dpkg-query, so not checked');
    expect(await machine.aptCalls()).toEqual([]);
  });
});
