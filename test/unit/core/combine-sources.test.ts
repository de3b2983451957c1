import { describe, expect, it } from 'vitest';
import { combineOutcomes, type Decision } from '../../../core/decide.ts';
import type { HealthVerdict, NextAction } from '../../../core/traffic.ts';

function decision(verdict: HealthVerdict, next: NextAction, alert = false): Decision {
  return {
    verdict,
    next,
    windowReasons: [],
    stepReasons: [],
    promotedWithoutData: false,
    alert,
    skipToLastStep: false,
  };
}

describe('combineOutcomes: one verdict from the high-resolution and the 1-minute source', () => {
  it("rolls back on either source's roll-back, naming that source", () => {
    expect(
      combineOutcomes([
        { decision: decision('healthy', 'shift'), fresh: true },
        { decision: decision('unhealthy', 'roll-back'), fresh: true },
      ]),
    ).toEqual({ deciding: 1, next: 'roll-back' });
    expect(
      combineOutcomes([
        { decision: decision('unhealthy', 'roll-back'), fresh: true },
        { decision: decision('unhealthy', 'roll-back'), fresh: true },
      ]),
    ).toEqual({ deciding: 0, next: 'roll-back' });
  });

  it('moves the step on only when every source lets it', () => {
    expect(
      combineOutcomes([
        { decision: decision('healthy', 'shift'), fresh: true },
        { decision: decision('healthy', 'bake'), fresh: false },
      ]),
    ).toEqual({ deciding: 0, next: 'bake' });
    expect(
      combineOutcomes([
        { decision: decision('healthy', 'finalize'), fresh: true },
        { decision: decision('healthy', 'finalize'), fresh: true },
      ]),
    ).toEqual({ deciding: 0, next: 'finalize' });
  });

  it('reports an alert over a plain verdict, and the worse verdict on fresh data otherwise', () => {
    expect(
      combineOutcomes([
        { decision: decision('healthy', 'bake'), fresh: true },
        { decision: decision('environment-unhealthy', 'bake', true), fresh: true },
      ]),
    ).toEqual({ deciding: 1, next: 'bake' });
    // A source with no complete period this check does not speak over one that judged new data.
    expect(
      combineOutcomes([
        { decision: decision('healthy', 'bake'), fresh: true },
        { decision: decision('insufficient-data', 'bake'), fresh: false },
      ]),
    ).toEqual({ deciding: 0, next: 'bake' });
    expect(
      combineOutcomes([
        { decision: decision('healthy', 'bake'), fresh: true },
        { decision: decision('insufficient-data', 'bake'), fresh: true },
      ]),
    ).toEqual({ deciding: 1, next: 'bake' });
  });

  it('refuses no sources at all', () => {
    expect(() => combineOutcomes([])).toThrow('combineOutcomes needs at least one outcome');
  });
});
