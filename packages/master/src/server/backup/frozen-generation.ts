import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { type DomainConfig, type DomainLayout, type GenerationCounter } from '@flotilla/core';
import { backupExclusions, packDirectory, type WrittenBackup } from '@flotilla/pack-domain';
import { takeSnapshot } from './snapshot.js';

/** What wrote a backup, in its manifest. */
const MASTER_TOOL = {
  name: 'master',
  version: (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
};

/** One generation of the domain, frozen so that it can be packed at leisure while changes go on. */
export class FrozenGeneration {
  private constructor(
    private readonly dir: string,
    private readonly domain: string,
    private readonly counter: GenerationCounter,
  ) {}

  /**
   * Freezes the domain's files as they are. Call it inside the MASTER's change turn, where they are
   * exactly generation `counter`; the backup directory and `targets` are left out.
   */
  static async take(layout: DomainLayout, config: DomainConfig, counter: GenerationCounter, snapshotsDir: string, targets: string[]): Promise<FrozenGeneration> {
    const dir = await takeSnapshot(layout.dir, snapshotsDir, backupExclusions(layout.dir, config.backup.dir, targets));
    return new FrozenGeneration(dir, layout.name, counter);
  }

  /** Writes the frozen generation to `target` (verified, then renamed into place) and lets it go. */
  async pack(target: string): Promise<WrittenBackup> {
    try {
      return await packDirectory({ dir: this.dir, domain: this.domain, counter: this.counter, exclude: [], tool: MASTER_TOOL }, target);
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}
