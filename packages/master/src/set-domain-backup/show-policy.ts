import { resolve } from 'node:path';
import type { Domain } from '@flotilla/core';
import { bootBackupLocation, bootRecordFile, readBootRecord, type BootBackupRecord } from '../server/backup/boot-record.js';
import { policyMessages } from './messages.js';

export interface PolicyView {
  domain: string;
  policy: { onBoot: boolean; dir: string; directory: string; node: string | null; keep: number; encryptTo: string[] };
  lastBootBackup: (BootBackupRecord & { location?: string }) | null;
}

/** The policy as configured and what the last boot backup did (read from the files: the MASTER may be down). */
export async function policyView({ layout, config }: Domain): Promise<PolicyView> {
  const record = await readBootRecord(bootRecordFile(layout, config.master.name));
  const { onBoot, dir, node, keep, encryptTo } = config.backup;
  return {
    domain: layout.name,
    policy: { onBoot, dir, directory: resolve(layout.dir, dir), node, keep, encryptTo },
    lastBootBackup: record ? { ...record, location: bootBackupLocation(record, layout) } : null,
  };
}

export function formatPolicy(view: PolicyView): string {
  const { policy, lastBootBackup: last } = view;
  const lines = [
    policyMessages.title(view.domain),
    `  backupOnBoot : ${policy.onBoot}`,
    `  backupDir    : ${policy.dir === policy.directory ? policy.dir : `${policy.dir} (${policy.directory})`}`,
    `  nodeName     : ${policy.node ?? policyMessages.thisMachine}`,
    `  keep         : ${policy.keep}`,
    `  encryptTo    : ${policy.encryptTo.length ? policy.encryptTo.join(', ') : policyMessages.inClear}`,
  ];
  if (!last) return [...lines, policyMessages.noBootBackup(policy.onBoot)].join('\n');
  lines.push('Last boot backup', `  time         : ${last.time}`);
  if (last.outcome === 'failed') return [...lines, `  result       : failed: ${last.error}`].join('\n');
  lines.push(`  file         : ${last.file} (generation ${last.generation ?? 'unknown'}, ${last.bytes} bytes)`, `  where        : ${last.location}`);
  if (last.copyFailure) lines.push(`  copy to ${last.node} failed: ${last.copyFailure}; ${policyMessages.keptInHome(last.location!)}`);
  return lines.join('\n');
}
