import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import {
  clusterOf,
  type DomainConfig,
  type ManagedStatus,
  type ServerStatus,
  type StatusRow,
  type AppStatus,
  type StreamEvent,
} from '@flotilla/core';

interface ServerRecord {
  status: ServerStatus;
  since: string;
  report?: ManagedStatus;
  stream?: ServerResponse;
  failure?: string;
}

/** A server's status as the MASTER sees it moved (from SHUTDOWN for a server not heard of yet). */
export interface StatusChange {
  time: string;
  server: string;
  from: ServerStatus;
  to: ServerStatus;
}

/**
 * What the MASTER knows of each managed server: the last status it reported and its event stream
 * while attached. A server the MASTER has not heard from since it started shows as SHUTDOWN.
 * Watchers (the web console) hear of every status change, and of any other change to what the
 * status table shows.
 */
export class ServerRegistry extends EventEmitter<{ status: [StatusChange]; change: [] }> {
  private readonly records = new Map<string, ServerRecord>();

  get attachedCount(): number {
    return [...this.records.values()].filter((record) => record.stream).length;
  }

  isAttached(server: string): boolean {
    return Boolean(this.records.get(server)?.stream);
  }

  statusOf(server: string): ServerStatus {
    return this.records.get(server)?.status ?? 'SHUTDOWN';
  }

  /** The applications a server said it runs in its last report. */
  appsOf(server: string): AppStatus[] {
    return this.records.get(server)?.report?.apps ?? [];
  }

  setStatus(server: string, status: ServerStatus): ServerRecord {
    const known = this.records.get(server);
    const record = known ?? { status, since: new Date().toISOString() };
    const from = known ? known.status : 'SHUTDOWN';
    if (record.status !== status) {
      record.status = status;
      record.since = new Date().toISOString();
      if (status !== 'FAILED') record.failure = undefined;
    }
    this.records.set(server, record);
    if (from !== status) this.emit('status', { time: record.since, server, from, to: status });
    this.emit('change');
    return record;
  }

  report(status: ManagedStatus): void {
    this.setStatus(status.server, status.status).report = status;
  }

  attach(server: string, stream: ServerResponse): void {
    const record = this.records.get(server) ?? this.setStatus(server, 'RUNNING');
    record.stream?.end();
    record.stream = stream;
    this.emit('change');
  }

  /**
   * The stream closed: a server that said it was stopping is SHUTDOWN. Any other is lost: `alive`
   * (what the heartbeats say now) keeps its status, else it is suspected until they decide.
   */
  detach(server: string, stream: ServerResponse, alive: boolean): 'graceful' | 'lost' | 'replaced' {
    const record = this.records.get(server);
    if (!record || record.stream !== stream) return 'replaced';
    record.stream = undefined;
    const graceful = record.status === 'SHUTTING_DOWN' || record.status === 'SHUTDOWN';
    if (graceful) this.setStatus(server, 'SHUTDOWN');
    else if (!alive) this.setStatus(server, 'FAILURE_SUSPECTED');
    this.emit('change');
    return graceful ? 'graceful' : 'lost';
  }

  /** Why a FAILED server stays FAILED, shown in the status table. */
  setFailure(server: string, reason: string): void {
    this.setStatus(server, 'FAILED').failure = reason;
  }

  broadcast(event: StreamEvent): void {
    const line = `${JSON.stringify(event)}\n`;
    for (const record of this.records.values()) record.stream?.write(line);
  }

  closeAll(): void {
    for (const record of this.records.values()) record.stream?.end();
  }

  forget(server: string): void {
    this.records.get(server)?.stream?.end();
    this.records.delete(server);
    this.emit('change');
  }

  rows(config: DomainConfig): StatusRow[] {
    return Object.entries(config.servers).map(([name, settings]) => {
      const record = this.records.get(name);
      const report = record?.report;
      const attached = Boolean(record?.stream);
      // A server that is down has no process and no mode; what it last reported is history.
      const up = report !== undefined && record?.status !== 'SHUTDOWN' && record?.status !== 'FAILED';
      return {
        name,
        master: false,
        status: record?.status ?? 'SHUTDOWN',
        since: record?.since ?? null,
        node: settings.node,
        pid: up ? report.pid : null,
        cluster: clusterOf(config, name),
        mode: up ? (attached ? 'MANAGED' : 'INDEPENDENT') : undefined,
        generation: report?.generation ?? null,
        address: settings.address,
        port: settings.port,
        http: settings.http,
        ...(record?.failure ? { failure: record.failure } : {}),
      };
    });
  }
}
