import type { AppStatus, BackupResult, StatusRow, StatusTable } from '@flotilla/core';
import type { Member } from '@flotilla/heartbeat';
import type { PolicyView } from '../../set-domain-backup/show-policy.js';
import type { ConsoleEvent } from './recent-events.js';

/** What the console reads from the MASTER: nothing it could change. */
export interface ConsoleSource {
  statusTable(): StatusTable;
  appsOf(server: string): AppStatus[];
  /** The heartbeat group as the MASTER's member sees it; undefined when it could not join. */
  members(): Member[] | undefined;
  backups(): Promise<BackupView>;
  /** What the admin forms choose from. */
  layout(): DomainOutline;
}

/** The names the admin controls offer: nodes for the backup copy, clusters to restart, applications to undeploy. */
export interface DomainOutline {
  nodes: string[];
  clusters: { name: string; servers: string[] }[];
  applications: { name: string; context: string; targets: string[] }[];
}

export interface BackupView extends PolicyView {
  /** The last backup taken through this MASTER (pack-domain while it runs). */
  lastRequested: BackupResult | null;
}

export interface MemberView {
  name: string;
  state: Member['state'];
  status: Member['status'];
  incarnation: number;
  address: string;
  port: number;
  since: string;
  self: boolean;
}

/** The document the page renders, pushed whole on every change (docs/console.md). */
export interface ConsoleState {
  /** The MASTER's clock, so that the page counts time in status from the MASTER's clock. */
  now: string;
  domain: string;
  generation: number;
  servers: (StatusRow & { apps: AppStatus[] })[];
  membership: MemberView[] | null;
  /** Or why it cannot be shown (a boot-backup record that cannot be read): the rest still is. */
  backup: BackupView | { error: string };
  events: ConsoleEvent[];
  outline: DomainOutline;
}

export async function buildState(source: ConsoleSource, events: ConsoleEvent[]): Promise<ConsoleState> {
  const table = source.statusTable();
  const members = source.members();
  return {
    now: new Date().toISOString(),
    domain: table.domain,
    generation: table.generation,
    // A server that is down runs nothing: what it last reported is history.
    servers: table.servers.map((row) => ({ ...row, apps: row.master || row.status === 'SHUTDOWN' || row.status === 'FAILED' ? [] : source.appsOf(row.name) })),
    membership: members
      ? members.map(({ name, state, status, incarnation, address, port, since, self }) => ({ name, state, status, incarnation, address, port, since, self }))
      : null,
    backup: await source.backups().catch((error: Error) => ({ error: `the backup policy or the last boot backup cannot be read: ${error.message}` })),
    events,
    outline: source.layout(),
  };
}
