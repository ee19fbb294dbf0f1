import { Gauge, Registry } from 'prom-client';
import { SERVER_STATUSES, type StatusTable } from '@flotilla/core';
import { HeartbeatMetrics } from '@flotilla/heartbeat';
import { registerProcessMetrics } from '@flotilla/managed';
import type { BackupTimes } from './backup/last-backup.js';

/** What the metrics read from the MASTER at each scrape. */
export interface MasterMetricsSource {
  statusTable(): StatusTable;
  /** When the last backups were taken, as far as the MASTER knows. */
  backupTimes(): Promise<BackupTimes>;
}

/** The MASTER's metrics (docs/metrics.md): the whole domain as the MASTER sees it. */
export class MasterMetrics {
  readonly registry = new Registry();
  readonly heartbeat: HeartbeatMetrics;

  constructor(source: MasterMetricsSource) {
    const registers = [this.registry];
    registerProcessMetrics(this.registry);
    this.heartbeat = new HeartbeatMetrics(this.registry);
    new Gauge({
      name: 'flotilla_server_status',
      help: 'Each server\'s status as the MASTER sees it (docs/contract.md#states): 1 for the current one, 0 for the others.',
      labelNames: ['server', 'status'],
      registers,
      collect() {
        // Rebuilt at each scrape: a removed server's series disappear.
        this.reset();
        for (const row of source.statusTable().servers) {
          for (const status of SERVER_STATUSES) this.set({ server: row.name, status }, status === row.status ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'flotilla_generation',
      help: 'The domain\'s current generation, as the MASTER holds it.',
      registers,
      collect() {
        this.set(source.statusTable().generation);
      },
    });
    new Gauge({
      name: 'flotilla_server_generation_lag',
      help: 'Generations a managed server is behind the MASTER: the current one minus the one it last reported.',
      labelNames: ['server'],
      registers,
      collect() {
        this.reset();
        const table = source.statusTable();
        for (const row of table.servers) {
          if (!row.master && row.generation != null) this.set({ server: row.name }, table.generation - row.generation);
        }
      },
    });
    new Gauge({
      name: 'flotilla_backup_age_seconds',
      help: 'Seconds since the last backup of each kind: boot (backup on boot) or requested (pack-domain through the running MASTER); absent for a kind never taken.',
      labelNames: ['kind'],
      registers,
      async collect() {
        this.reset();
        for (const [kind, time] of Object.entries(await source.backupTimes())) this.set({ kind }, (Date.now() - time.getTime()) / 1000);
      },
    });
  }
}
