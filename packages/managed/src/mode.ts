import type { IndependentReason, ServerMode, ServerStatus } from '@flotilla/core';

/**
 * A managed server's own state machine, all of it in one place: its status and its mode
 * (docs/contract.md#states), each with the time it entered it. The server tells it what happened (an event); this
 * module alone decides what that does.
 *
 *   status \ event   serving            apps-changed       stopping        stopped
 *   STARTING         RUNNING / STANDBY  ignored            SHUTTING_DOWN   SHUTDOWN
 *   RUNNING          ignored            STANDBY if failed  SHUTTING_DOWN   SHUTDOWN
 *   STANDBY          ignored            RUNNING if not     SHUTTING_DOWN   SHUTDOWN
 *   SHUTTING_DOWN    ignored            ignored            ignored         SHUTDOWN
 *   SHUTDOWN         ignored            ignored            ignored         ignored
 *
 *   mode \ event                               attached   detached
 *   INDEPENDENT (master-unreachable-at-start)  MANAGED    ignored
 *   MANAGED                                    ignored    INDEPENDENT (master-connection-lost)
 *   INDEPENDENT (master-connection-lost)       MANAGED    ignored
 *
 * `serving`: the start is done, with or without a failed application (STANDBY, docs/contract.md#applications);
 * the applications' changes during the start do not count before it. `attached`: the MASTER's
 * event stream is open and its generation synchronised; `detached`: the stream ended, or an
 * attempt to open it failed. A server is INDEPENDENT (master-unreachable-at-start) from its start
 * until its first attach, even when its first sync came from the MASTER: MANAGED means following
 * the event stream. The mode is reported as it was even while stopping.
 */

export type ModeState = { mode: 'MANAGED' } | { mode: 'INDEPENDENT'; reason: IndependentReason };

export type ServerEvent =
  | { kind: 'serving'; degraded: boolean }
  | { kind: 'apps-changed'; degraded: boolean }
  | { kind: 'stopping' }
  | { kind: 'stopped' }
  | { kind: 'attached' }
  | { kind: 'detached' };

export interface ServerSnapshot {
  status: ServerStatus;
  mode: ModeState;
}

export const INITIAL_STATE: ServerSnapshot = Object.freeze({
  status: 'STARTING',
  mode: Object.freeze({ mode: 'INDEPENDENT', reason: 'master-unreachable-at-start' }),
});

/** What `event` does to `current`; undefined when it changes nothing. */
export function transition(current: ServerSnapshot, event: ServerEvent): ServerSnapshot | undefined {
  const status = (next: ServerStatus) => (next === current.status ? undefined : { ...current, status: next });
  const mode = (next: ModeState) => (next.mode === current.mode.mode ? undefined : { ...current, mode: next });
  const serving = (degraded: boolean): ServerStatus => (degraded ? 'STANDBY' : 'RUNNING');
  switch (event.kind) {
    case 'serving':
      return current.status === 'STARTING' ? status(serving(event.degraded)) : undefined;
    case 'apps-changed':
      return current.status === 'RUNNING' || current.status === 'STANDBY' ? status(serving(event.degraded)) : undefined;
    case 'stopping':
      return current.status === 'SHUTTING_DOWN' || current.status === 'SHUTDOWN' ? undefined : status('SHUTTING_DOWN');
    case 'stopped':
      return status('SHUTDOWN');
    case 'attached':
      return mode({ mode: 'MANAGED' });
    case 'detached':
      return current.mode.mode === 'MANAGED' ? mode({ mode: 'INDEPENDENT', reason: 'master-connection-lost' }) : undefined;
  }
}

/**
 * The server's current state and since when it holds its status and its mode: `apply` is the only
 * way to change them, so "since" is always right.
 */
export class ServerState {
  private current: ServerSnapshot = INITIAL_STATE;
  statusSince = new Date().toISOString();
  modeSince = this.statusSince;

  get status(): ServerStatus {
    return this.current.status;
  }

  get mode(): ServerMode {
    return this.current.mode.mode;
  }

  /** Why the server is INDEPENDENT; undefined when MANAGED. */
  get reason(): IndependentReason | undefined {
    return this.current.mode.mode === 'INDEPENDENT' ? this.current.mode.reason : undefined;
  }

  /** Attached to the MASTER: following its event stream (`managed status`'s `master.connected`). */
  get attached(): boolean {
    return this.current.mode.mode === 'MANAGED';
  }

  /** Applies `event`; true when it changed the state. */
  apply(event: ServerEvent): boolean {
    const next = transition(this.current, event);
    if (!next) return false;
    const now = new Date().toISOString();
    if (next.status !== this.current.status) this.statusSince = now;
    if (next.mode !== this.current.mode) this.modeSince = now;
    this.current = next;
    return true;
  }
}
