import type { ServerStatus } from '@flotilla/core';
import { describe, expect, it } from 'vitest';
import { INITIAL_STATE, ServerState, transition, type ModeState, type ServerEvent, type ServerSnapshot } from './mode.js';

const atStart: ModeState = { mode: 'INDEPENDENT', reason: 'master-unreachable-at-start' };
const managed: ModeState = { mode: 'MANAGED' };
const lost: ModeState = { mode: 'INDEPENDENT', reason: 'master-connection-lost' };
const STATUSES: ServerStatus[] = ['STARTING', 'RUNNING', 'STANDBY', 'SHUTTING_DOWN', 'SHUTDOWN'];

const statusAfter = (status: ServerStatus, event: ServerEvent) => transition({ status, mode: managed }, event)?.status;
const modeAfter = (mode: ModeState, event: ServerEvent) => transition({ status: 'RUNNING', mode }, event)?.mode;

describe('a managed server state machine', () => {
  it('starts STARTING and INDEPENDENT until its first attach', () => {
    expect(INITIAL_STATE).toEqual({ status: 'STARTING', mode: atStart });
  });

  it('is RUNNING or STANDBY once served, and only from STARTING', () => {
    expect(statusAfter('STARTING', { kind: 'serving', degraded: false })).toBe('RUNNING');
    expect(statusAfter('STARTING', { kind: 'serving', degraded: true })).toBe('STANDBY');
    for (const status of STATUSES.filter((s) => s !== 'STARTING')) {
      expect(statusAfter(status, { kind: 'serving', degraded: false })).toBeUndefined();
      expect(statusAfter(status, { kind: 'serving', degraded: true })).toBeUndefined();
    }
  });

  it('follows its applications between RUNNING and STANDBY, and only there', () => {
    expect(statusAfter('RUNNING', { kind: 'apps-changed', degraded: true })).toBe('STANDBY');
    expect(statusAfter('RUNNING', { kind: 'apps-changed', degraded: false })).toBeUndefined();
    expect(statusAfter('STANDBY', { kind: 'apps-changed', degraded: false })).toBe('RUNNING');
    expect(statusAfter('STANDBY', { kind: 'apps-changed', degraded: true })).toBeUndefined();
    for (const status of ['STARTING', 'SHUTTING_DOWN', 'SHUTDOWN'] as const) {
      expect(statusAfter(status, { kind: 'apps-changed', degraded: true })).toBeUndefined();
      expect(statusAfter(status, { kind: 'apps-changed', degraded: false })).toBeUndefined();
    }
  });

  it('shuts down from any status, once', () => {
    for (const status of ['STARTING', 'RUNNING', 'STANDBY'] as const) expect(statusAfter(status, { kind: 'stopping' })).toBe('SHUTTING_DOWN');
    expect(statusAfter('SHUTTING_DOWN', { kind: 'stopping' })).toBeUndefined();
    expect(statusAfter('SHUTDOWN', { kind: 'stopping' })).toBeUndefined();
    for (const status of STATUSES.filter((s) => s !== 'SHUTDOWN')) expect(statusAfter(status, { kind: 'stopped' })).toBe('SHUTDOWN');
    expect(statusAfter('SHUTDOWN', { kind: 'stopped' })).toBeUndefined();
  });

  it('is MANAGED while attached and INDEPENDENT with the reason otherwise', () => {
    expect(modeAfter(atStart, { kind: 'attached' })).toEqual(managed);
    expect(modeAfter(lost, { kind: 'attached' })).toEqual(managed);
    expect(modeAfter(managed, { kind: 'attached' })).toBeUndefined();
    expect(modeAfter(managed, { kind: 'detached' })).toEqual(lost);
    // A failed attempt to attach changes nothing: the reason stays the one it had.
    expect(modeAfter(atStart, { kind: 'detached' })).toBeUndefined();
    expect(modeAfter(lost, { kind: 'detached' })).toBeUndefined();
  });

  it('changes the status and the mode independently of each other', () => {
    const standby: ServerSnapshot = { status: 'STANDBY', mode: lost };
    expect(transition(standby, { kind: 'attached' })).toEqual({ status: 'STANDBY', mode: managed });
    expect(transition({ status: 'RUNNING', mode: managed }, { kind: 'stopping' })).toEqual({ status: 'SHUTTING_DOWN', mode: managed });
    for (const event of [{ kind: 'serving', degraded: false }, { kind: 'apps-changed', degraded: true }, { kind: 'stopping' }, { kind: 'stopped' }] as const) {
      expect(transition(standby, event)?.mode ?? lost).toBe(lost);
    }
  });
});

describe('ServerState', () => {
  it('reports the mode, its reason and whether it is attached, and moves "since" only for what changed', async () => {
    const state = new ServerState();
    expect([state.status, state.mode, state.reason, state.attached]).toEqual(['STARTING', 'INDEPENDENT', 'master-unreachable-at-start', false]);
    const { statusSince, modeSince } = state;
    const later = Date.parse(statusSince) + 2;
    while (Date.now() < later) await new Promise<void>((resolve) => setTimeout(resolve, 1));
    expect(state.apply({ kind: 'detached' })).toBe(false);
    expect(state.apply({ kind: 'serving', degraded: false })).toBe(true);
    expect(state.status).toBe('RUNNING');
    expect(state.statusSince > statusSince).toBe(true);
    expect(state.modeSince).toBe(modeSince);
    expect(state.apply({ kind: 'attached' })).toBe(true);
    expect([state.mode, state.reason, state.attached]).toEqual(['MANAGED', undefined, true]);
    expect(state.modeSince > modeSince).toBe(true);
    expect(state.apply({ kind: 'detached' })).toBe(true);
    expect([state.mode, state.reason, state.attached]).toEqual(['INDEPENDENT', 'master-connection-lost', false]);
  });
});
