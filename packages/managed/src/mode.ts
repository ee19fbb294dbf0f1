import type { IndependentReason, ServerMode, ServerStatus } from '@flotilla/core';

/**
 * The two things `managed status` reports of a server's own state, each with the time it entered
 * it: its status (STARTING, RUNNING, STANDBY, SHUTTING_DOWN) and its mode (MANAGED, or INDEPENDENT
 * with the reason). One place changes them, so "since" is always right.
 */
export class ServerState {
  status: ServerStatus = 'STARTING';
  statusSince = new Date().toISOString();
  mode: ServerMode = 'INDEPENDENT';
  reason: IndependentReason | undefined = 'master-unreachable-at-start';
  modeSince = new Date().toISOString();

  setStatus(status: ServerStatus): boolean {
    if (status === this.status) return false;
    this.status = status;
    this.statusSince = new Date().toISOString();
    return true;
  }

  managed(): boolean {
    if (this.mode === 'MANAGED') return false;
    this.mode = 'MANAGED';
    this.reason = undefined;
    this.modeSince = new Date().toISOString();
    return true;
  }

  independent(reason: IndependentReason): boolean {
    if (this.mode === 'INDEPENDENT' && this.reason === reason) return false;
    this.mode = 'INDEPENDENT';
    this.reason = reason;
    this.modeSince = new Date().toISOString();
    return true;
  }
}
