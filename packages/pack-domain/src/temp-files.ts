import { dirname, join } from 'node:path';
import { leftoverName } from '@flotilla/unpack-domain/verification';

/**
 * Where an archive is written before it is verified and renamed over `target`: beside it (a rename
 * within one directory is atomic), under a leftover name (see removeLeftovers), so that whatever a
 * killed pack leaves is removed by the next pack or unpack in that directory, whatever its target.
 */
export function tempPathFor(target: string): string {
  return join(dirname(target), leftoverName('pack', target.slice(dirname(target).length + 1)));
}
