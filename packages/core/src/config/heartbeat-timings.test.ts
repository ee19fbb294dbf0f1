import { describe, expect, it } from 'vitest';
import { ConfigError, parseDomainConfig } from './load.js';
import { DEFAULT_TIMINGS, HeartbeatTimingsSchema, resolveTimings, timingRuleProblems } from './heartbeat-timings.js';

const WHY = 'the indirect probes need the rest of the probe period';

describe('the rules between heartbeat timings', () => {
  it('the defaults obey every rule', () => {
    expect(timingRuleProblems({})).toEqual([]);
    expect(HeartbeatTimingsSchema.safeParse({ ...DEFAULT_TIMINGS }).success).toBe(true);
    expect(resolveTimings()).toEqual(DEFAULT_TIMINGS);
  });

  it('probeTimeoutMs must stay below probeIntervalMs, whichever of the two is set', () => {
    expect(timingRuleProblems({ probeTimeoutMs: 199 })).toEqual([]);
    expect(timingRuleProblems({ probeTimeoutMs: 300 })).toEqual([
      { timing: 'probeTimeoutMs', message: `must be below probeIntervalMs (200, its default; ${WHY})` },
    ]);
    // Equal is not below: the indirect probes would get no time at all.
    expect(timingRuleProblems({ probeTimeoutMs: 200 })).toHaveLength(1);
    // Only the period set: reported there, where the file has a line for it.
    expect(timingRuleProblems({ probeIntervalMs: 40 })).toEqual([
      { timing: 'probeIntervalMs', message: `must be above probeTimeoutMs (50, its default; ${WHY})` },
    ]);
    // Both set: at the timeout, naming the period's value as written.
    expect(timingRuleProblems({ probeIntervalMs: 150, probeTimeoutMs: 150 })).toEqual([
      { timing: 'probeTimeoutMs', message: `must be below probeIntervalMs (150; ${WHY})` },
    ]);
    expect(timingRuleProblems({ probeIntervalMs: 1000, probeTimeoutMs: 300 })).toEqual([]);
  });

  it('each timing on its own: a positive number, a whole one where it counts something', () => {
    const issues = (overrides: object) => HeartbeatTimingsSchema.safeParse(overrides).error?.issues.map((issue) => [issue.path.join('.'), issue.message]);
    expect(issues({ stallQuietMs: 0 })).toEqual([['stallQuietMs', 'must be a positive number']]);
    expect(issues({ indirectChecks: 2.5 })).toEqual([['indirectChecks', 'must be a whole number, 1 or more']]);
    expect(issues({ suspicionMaxMultiplier: 2.5 })).toBeUndefined();
    expect(issues({ probeMs: 5 })).toHaveLength(1);
  });

  it('resolveTimings: the defaults under what is set, or a RangeError naming every problem', () => {
    expect(resolveTimings({ probeIntervalMs: 500, probeTimeoutMs: 250 })).toEqual({ ...DEFAULT_TIMINGS, probeIntervalMs: 500, probeTimeoutMs: 250 });
    expect(resolveTimings({ probeIntervalMs: undefined })).toEqual(DEFAULT_TIMINGS);
    expect(() => resolveTimings({ probeTimeoutMs: 300 })).toThrow(
      new RangeError(`heartbeat timings: probeTimeoutMs must be below probeIntervalMs (200, its default; ${WHY}), got 300`),
    );
    expect(() => resolveTimings({ leaveRepeats: 0, awarenessMax: 1.5 })).toThrow(/awarenessMax must be a whole number, 1 or more, got 1.5; leaveRepeats must be a positive number, got 0$/);
  });

  it('in domain.json5: a ConfigError at the timing, with line and column, never a loaded configuration', () => {
    const text = `{
  name: "d1",
  master: { node: "node1" },
  nodes: { node1: { host: "127.0.0.1" } },
  heartbeat: {
    timings: { probeIntervalMs: 40 },
  },
}
`;
    let thrown: unknown;
    try {
      parseDomainConfig(text, { file: 'domain.json5' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).issues).toMatchObject([
      { file: 'domain.json5', line: 6, column: 33, setting: 'heartbeat.timings.probeIntervalMs', message: `must be above probeTimeoutMs (50, its default; ${WHY}), got number 40` },
    ]);
    expect(parseDomainConfig(text.replace('40', '400'), { file: 'domain.json5' }).heartbeat.timings).toEqual({ probeIntervalMs: 400 });
  });
});
