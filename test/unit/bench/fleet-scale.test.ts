import { describe, expect, it } from 'vitest';
import {
  type EnteredState,
  exampleWaves,
  fleetSnapshotBytes,
  historyEventsOf,
  LIMITS,
  largestPayload,
  metricCallsPerCheck,
  modelFleetRelease,
  releaseShape,
} from '../../../bench/fleet-scale.ts';

const lambda = (name: string): EnteredState => ({ name, type: 'Task', resource: 'arn:aws:states:::lambda:invoke' });
const state = (name: string, type: string): EnteredState => ({ name, type });

/** A small released run: two checks in one step. */
const run: EnteredState[] = [
  state('Receive request', 'Pass'),
  lambda('Validate release'),
  state('Deploy & verify', 'Map'),
  lambda('Deploy green'),
  lambda('Verify green'),
  state('Approval needed?', 'Choice'),
  { name: 'Await approval', type: 'Task', resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken' },
  lambda('Shift traffic'),
  state('Bake', 'Wait'),
  lambda('Check health'),
  state('Healthy?', 'Choice'),
  state('Bake', 'Wait'),
  lambda('Check health'),
  state('Healthy?', 'Choice'),
  lambda('Finalize'),
  state('Released', 'Succeed'),
];

describe('the fleet scale model', () => {
  it('counts the history events of each kind of state: 5 for a Lambda Task, 6 for one that waits, 2 otherwise', () => {
    expect(historyEventsOf(lambda('Check health'))).toBe(5);
    expect(historyEventsOf({ type: 'Task', resource: 'arn:aws:states:::codebuild:startBuild.sync' })).toBe(6);
    expect(historyEventsOf({ type: 'Task', resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken' })).toBe(6);
    expect(historyEventsOf({ type: 'Wait' })).toBe(2);
    expect(historyEventsOf({ type: 'Choice' })).toBe(2);
  });

  it('splits a released run at the first shift and at Finalize, and refuses a run that never finalized', () => {
    const shape = releaseShape(run);
    expect(shape.beforeTraffic.map((s) => s.name)).toEqual(run.slice(0, 7).map((s) => s.name));
    expect(shape.trafficPlan).toHaveLength(7);
    expect(shape.ending.map((s) => s.name)).toEqual(['Finalize', 'Released']);
    expect(() => releaseShape(run.slice(0, 10))).toThrow(/passes Shift traffic before Finalize/);
  });

  it("repeats the Map's one iteration (Deploy and Verify green) per member, and the traffic plan per wave", () => {
    const shape = releaseShape(run);
    const model = modelFleetRelease(shape, 5, 3);
    // 5 states before traffic (7 less the one iteration's Deploy and Verify green) + 2 × 5 members + 3 × 7 + 2.
    expect(model.transitions).toBe(5 + 10 + 21 + 2);
    // Execution 2; before traffic 2 + 5 + 2 (the Map) + 2 + 6; the Map's run 2; 5 members × (2 + 5 + 5);
    // 3 waves × (5 + 2 + 5 + 2 + 2 + 5 + 2); Finalize 5 + Released 2.
    expect(model.historyEvents).toBe(2 + 17 + 2 + 60 + 3 * 23 + 7);
    // Each member adds the same, whatever the fleet's size.
    const more = modelFleetRelease(shape, 6, 3);
    expect([more.transitions - model.transitions, more.historyEvents - model.historyEvents]).toEqual([2, 12]);
  });

  it('batches every member’s series 500 to a GetMetricData call: green alone at 100%, green and blue mid-canary', () => {
    expect(metricCallsPerCheck(0, 50, 13)).toEqual({ series: 500, batched: 1, dataPointsPerCall: 6500 });
    expect(metricCallsPerCheck(0, 51, 13).batched).toBe(2);
    // 100 members in the last wave's canary: 25 at 100% (green only), 75 splitting with blue.
    expect(metricCallsPerCheck(25, 75, 13)).toMatchObject({ series: 875, batched: 2 });
    expect(metricCallsPerCheck(100, 0, 13)).toMatchObject({ series: 500, batched: 1 });
    // With prod's high-resolution source (10-second periods) each version adds three series of six points a minute.
    const highResolution = metricCallsPerCheck(25, 75, 13, { highResolutionPeriodSeconds: 10 });
    expect(highResolution).toMatchObject({ series: 1400, batched: 3 });
    expect(highResolution.dataPointsPerCall).toBe(13 * 500 * 6);
    expect(highResolution.dataPointsPerCall).toBeLessThan(LIMITS.dataPointsPerGetMetricData);
  });

  it('gives each fleet size the issue’s waves (one member, 25%, the rest), leaving out a wave that moves nobody', () => {
    expect(exampleWaves(1)).toEqual([{ members: 1 }]);
    expect(exampleWaves(4)).toEqual([{ members: 1 }, { percent: 100 }]);
    expect(exampleWaves(5)).toEqual([{ members: 1 }, { percent: 25 }, { percent: 100 }]);
    expect(exampleWaves(100)).toHaveLength(3);
  });

  it('sizes the fleet snapshot at its longest names, linear in members, and finds the largest payload of a run', () => {
    const per = fleetSnapshotBytes(2) - fleetSnapshotBytes(1);
    expect(fleetSnapshotBytes(100) - fleetSnapshotBytes(1)).toBe(99 * per);
    expect(per).toBeGreaterThan(32 + 64);
    expect(
      largestPayload([
        { state: 'A', input: { x: 'a' } },
        { state: 'B', output: { x: 'a'.repeat(100) } },
        { state: 'C' },
      ]),
    ).toEqual({ bytes: JSON.stringify({ x: 'a'.repeat(100) }).length, state: 'B' });
  });
});
