import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SERVER_STATUSES, type AppStatus, type ServerMode, type ServerStatus } from '@flotilla/core';
import { HeartbeatMetrics } from '@flotilla/heartbeat';
import { registerProcessMetrics } from './process-metrics.js';

/** What the metrics read from the server at each scrape. */
export interface ManagedMetricsSource {
  status(): ServerStatus;
  mode(): ServerMode;
  generation(): number | null;
  apps(): AppStatus[];
}

export type SyncOutcome = 'changed' | 'unchanged' | 'failed';

/** A sync moves a configuration file in milliseconds and large applications in tens of seconds. */
const SYNC_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const MODES: ServerMode[] = ['MANAGED', 'INDEPENDENT'];

/** One application's proxied requests of one status class. */
interface ProxySeries {
  labels: { app: string; code: string };
  /** Requests since the last scrape, not yet in the counter. */
  unreported: number;
  duration: Histogram.Internal<'app' | 'code'>;
}

/** `2xx`, `4xx`…: per-code series would multiply with every application's odd answers. */
function statusClass(code: number): string {
  return `${Math.floor(code / 100)}xx`;
}

/** The metrics of one managed server (docs/metrics.md), served on its management port. */
export class ManagedMetrics {
  readonly registry = new Registry();
  readonly heartbeat: HeartbeatMetrics;
  private readonly syncDuration: Histogram<'outcome'>;
  private readonly syncBytes: Counter;
  private readonly syncFiles: Counter;
  private readonly proxyRequests: Counter<'app' | 'code'>;
  private readonly proxyDuration: Histogram<'app' | 'code'>;
  /**
   * The labelled series of each application, by status class (1-5), looked up once. A proxied
   * request adds to `unreported`, which the counter takes at each scrape: prom-client hashes the
   * label object on every increment, even a labelled child's, and that was a fifth of what the
   * metrics cost a request. The histogram has no such way in, so it is observed each time.
   */
  private readonly proxySeries = new Map<string, Array<ProxySeries | undefined>>();

  constructor(source: ManagedMetricsSource) {
    const registers = [this.registry];
    registerProcessMetrics(this.registry);
    this.heartbeat = new HeartbeatMetrics(this.registry);
    new Gauge({
      name: 'flotilla_server_status',
      help: 'This server\'s status (docs/contract.md#states): 1 for the current one, 0 for the others.',
      labelNames: ['status'],
      registers,
      collect() {
        const current = source.status();
        for (const status of SERVER_STATUSES) this.set({ status }, status === current ? 1 : 0);
      },
    });
    new Gauge({
      name: 'flotilla_server_mode',
      help: 'MANAGED (attached to the MASTER) or INDEPENDENT: 1 for the current mode, 0 for the other.',
      labelNames: ['mode'],
      registers,
      collect() {
        const current = source.mode();
        for (const mode of MODES) this.set({ mode }, mode === current ? 1 : 0);
      },
    });
    new Gauge({
      name: 'flotilla_generation',
      help: 'The generation this server serves from its cache.',
      registers,
      collect() {
        const generation = source.generation();
        if (generation !== null) this.set(generation);
      },
    });
    this.syncDuration = new Histogram({
      name: 'flotilla_sync_duration_seconds',
      help: 'How long bringing the cache to the MASTER\'s generation took, by outcome: changed, unchanged, failed.',
      labelNames: ['outcome'],
      buckets: SYNC_BUCKETS,
      registers,
    });
    this.syncBytes = new Counter({ name: 'flotilla_sync_bytes_total', help: 'Bytes of content fetched by synchronisations.', registers });
    this.syncFiles = new Counter({ name: 'flotilla_sync_files_total', help: 'Files fetched by synchronisations (files reused from the cache are not counted).', registers });
    new Counter({
      name: 'flotilla_app_restarts_total',
      help: 'Times each application\'s process was restarted after it exited (for the version that serves now).',
      labelNames: ['app'],
      registers,
      collect() {
        this.reset();
        for (const app of source.apps()) this.inc({ app: app.name }, app.restarts);
      },
    });
    const proxySeries = this.proxySeries;
    this.proxyRequests = new Counter({
      name: 'flotilla_proxy_requests_total',
      help: 'Requests the HTTP port passed to an application, by application and status class (2xx, 3xx, 4xx, 5xx).',
      labelNames: ['app', 'code'],
      registers,
      collect() {
        for (const byClass of proxySeries.values()) {
          for (const series of byClass) {
            if (!series?.unreported) continue;
            this.inc(series.labels, series.unreported);
            series.unreported = 0;
          }
        }
      },
    });
    this.proxyDuration = new Histogram({
      name: 'flotilla_proxy_request_duration_seconds',
      help: 'Time from a request\'s arrival to the end of its answer, by application and status class.',
      labelNames: ['app', 'code'],
      registers,
    });
  }

  synced(outcome: SyncOutcome, seconds: number, moved?: { files: number; bytes: number }): void {
    this.syncDuration.observe({ outcome }, seconds);
    if (moved) {
      this.syncFiles.inc(moved.files);
      this.syncBytes.inc(moved.bytes);
    }
  }

  proxied(app: string, code: number, seconds: number): void {
    let byClass = this.proxySeries.get(app);
    if (!byClass) this.proxySeries.set(app, (byClass = []));
    const statusIndex = Math.floor(code / 100);
    let series = byClass[statusIndex];
    if (!series) {
      const labels = { app, code: statusClass(code) };
      series = byClass[statusIndex] = { labels, unreported: 0, duration: this.proxyDuration.labels(labels) };
    }
    series.unreported += 1;
    series.duration.observe(seconds);
  }
}
