import { runningPid, serverLayout, type BackupRequest, type BackupResult, type Domain } from '@flotilla/core/backup';

/**
 * The MASTER answers once the archive is written and verified: as long as packing the whole
 * domain takes, which for a large application set is minutes, not seconds.
 */
export const BACKUP_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * Asks the MASTER of `domain` to write the backup to `target`, so that it holds exactly one
 * generation even while changes arrive. Only a MASTER running from this home (its pid file names
 * a live process) is asked: it shares the machine and so the path. Returns undefined when no
 * MASTER runs here or it does not answer; the caller then packs from the files.
 */
export async function packThroughMaster(domain: Domain, target: string): Promise<BackupResult | undefined> {
  const pidFile = serverLayout(domain.layout, domain.config.master.name).pidFile;
  if ((await runningPid(pidFile)) === undefined) return undefined;
  // The network client loads only now: a pack with no MASTER running here never needs it.
  const { API_PREFIX, BackupResultSchema, PeerClient, PeerUnreachableError, masterCredentialsFromHome, masterEndpoint, parseMessage } = await import('@flotilla/core');
  const client = new PeerClient(masterEndpoint(domain.config), await masterCredentialsFromHome(domain.layout));
  try {
    const request: BackupRequest = { target };
    const answer = await client.request('POST', `${API_PREFIX}/backup`, { body: request, timeoutMs: BACKUP_TIMEOUT_MS });
    return parseMessage(BackupResultSchema, answer, `the backup answer of the MASTER at ${client.where}`);
  } catch (error) {
    if (error instanceof PeerUnreachableError) return undefined;
    throw error;
  } finally {
    client.close();
  }
}
