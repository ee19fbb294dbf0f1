import { UsageError, assertName, type BackupPolicyChange, type DomainConfig } from '@flotilla/core';
import { policyMessages } from './messages.js';

/** The options as typed; strings, so that a message can quote what the user wrote. */
export interface PolicyOptions {
  backupOnBoot?: string;
  backupDir?: string;
  nodeName?: string;
  keep?: string;
  /** Age public keys (each checked with the whole configuration on the MASTER), or `none` alone to clear them. */
  encryptTo?: string[];
}

/** Words that clear backup.node, as the reference product and a shell user would write them. */
const NO_NODE = new Set(['', 'null', 'none']);

/**
 * The policy change the options ask for, validated against the configuration: undefined when no
 * option was given (set-domain-backup then prints the policy).
 */
export function policyChange(options: PolicyOptions, config: DomainConfig): BackupPolicyChange | undefined {
  const policy: BackupPolicyChange['policy'] = {};
  if (options.backupOnBoot !== undefined) {
    const value = options.backupOnBoot.trim().toLowerCase();
    if (value !== 'true' && value !== 'false') throw new UsageError(policyMessages.badOnBoot(options.backupOnBoot));
    policy.onBoot = value === 'true';
  }
  if (options.backupDir !== undefined) {
    if (options.backupDir.trim() === '') throw new UsageError(policyMessages.badDir());
    policy.dir = options.backupDir;
  }
  if (options.nodeName !== undefined) {
    const node = options.nodeName.trim();
    if (NO_NODE.has(node.toLowerCase())) {
      policy.node = null;
    } else {
      assertName('node', node);
      if (!Object.hasOwn(config.nodes, node)) throw new UsageError(policyMessages.undefinedNode(node, Object.keys(config.nodes)));
      policy.node = node;
    }
  }
  if (options.keep !== undefined) {
    const text = options.keep.trim();
    const keep = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(keep >= 1 && keep <= 1000)) throw new UsageError(policyMessages.badKeep(options.keep));
    policy.keep = keep;
  }
  if (options.encryptTo !== undefined) {
    const keys = options.encryptTo.map((key) => key.trim());
    policy.encryptTo = keys.length === 1 && NO_NODE.has(keys[0]!.toLowerCase()) ? [] : keys;
  }
  return Object.keys(policy).length ? { op: 'set-backup-policy', policy } : undefined;
}
