import type { ServerResponse } from 'node:http';
import {
  clusterOf,
  type DomainConfig,
  type ManagedStatus,
  type ServerStatus,
  type StatusRow,
  type StreamEvent,
} from '@flotilla/core';

interface ServerRecord {
  status: ServerStatus;
  since: string;
  report?: ManagedStatus;
  stream?: ServerResponse;
}

/**
 * What the MASTER knows of each managed server: the last status it reported and its event stream
 * while attached. A server the MASTER has not heard from since it started shows as SHUTDOWN.
 */
export class ServerRegistry {
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

  private setStatus(server: string, status: ServerStatus): ServerRecord {
    const record = this.records.get(server) ?? { status, since: new Date().toISOString() };
    if (record.status !== status) {
      record.status = status;
      record.since = new Date().toISOString();
    }
    this.records.set(server, record);
    return record;
  }

  report(status: ManagedStatus): void {
    this.setStatus(status.server, status.status).report = status;
  }

  attach(server: string, stream: ServerResponse): void {
    const record = this.records.get(server) ?? this.setStatus(server, 'RUNNING');
    record.stream?.end();
    record.stream = stream;
  }

  /** The stream closed: a server that said it was stopping is SHUTDOWN, any other is lost. */
  detach(server: string, stream: ServerResponse): 'graceful' | 'lost' | 'replaced' {
    const record = this.records.get(server);
    if (!record || record.stream !== stream) return 'replaced';
    record.stream = undefined;
    const graceful = record.status === 'SHUTTING_DOWN' || record.status === 'SHUTDOWN';
    this.setStatus(server, graceful ? 'SHUTDOWN' : 'FAILED');
    return graceful ? 'graceful' : 'lost';
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
  }

  rows(config: DomainConfig): StatusRow[] {
    return Object.entries(config.servers).map(([name, settings]) => {
      const record = this.records.get(name);
      const report = record?.report;
      const attached = Boolean(record?.stream);
      return {
        name,
        master: false,
        status: record?.status ?? 'SHUTDOWN',
        since: record?.since ?? null,
        node: settings.node,
        pid: report && record?.status !== 'SHUTDOWN' ? report.pid : null,
        cluster: clusterOf(config, name),
        mode: report ? (attached ? 'MANAGED' : 'INDEPENDENT') : undefined,
        generation: report?.generation ?? null,
        address: settings.address,
        port: settings.port,
        http: settings.http,
      };
    });
  }
}
