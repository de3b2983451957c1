import { describe, expect, it } from 'vitest';
import {
  applyStateChange,
  type ReleaseEvent,
  type ReleaseState,
  stateChange,
} from '../../../core/model/release-events.ts';

const AT = '2026-11-26T10:00:00.000Z';
const fastForward: ReleaseEvent = {
  at: AT,
  kind: 'fast-forward-requested',
  summary: 'fast-forward requested by bob: hotfix',
  evidence: { by: 'bob', reason: 'hotfix' },
};
const approvalRequested: ReleaseEvent = {
  at: AT,
  kind: 'approval-requested',
  summary: 'waiting',
  evidence: { expiresAt: '2026-11-26T11:00:00.000Z' },
};
const released = (warnings: string[]): ReleaseEvent => ({
  at: AT,
  kind: 'released',
  summary: 'live → 2',
  evidence: { lastCheck: null, warnings },
});

describe('the typed state each event sets', () => {
  it.each<[string, ReleaseEvent, ReturnType<typeof stateChange>]>([
    [
      'a fast-forward request sets the request once',
      fastForward,
      { set: {}, setOnce: { fastForwardRequested: fastForward }, clear: [], append: {} },
    ],
    [
      'an approval request opens a pending approval with its deadline',
      approvalRequested,
      {
        set: { awaitingApproval: { requestedAt: AT, expiresAt: '2026-11-26T11:00:00.000Z' } },
        setOnce: {},
        clear: [],
        append: {},
      },
    ],
    [
      'an approval closes it',
      { at: AT, kind: 'approved', summary: 'ok' },
      { set: {}, setOnce: {}, clear: ['awaitingApproval'], append: {} },
    ],
    [
      'a rejection closes it',
      { at: AT, kind: 'rejected', summary: 'no' },
      { set: {}, setOnce: {}, clear: ['awaitingApproval'], append: {} },
    ],
    [
      'a release with warnings records them and closes any approval',
      released(['quiet step']),
      {
        set: { releasedWithWarnings: ['quiet step'] },
        setOnce: {},
        clear: ['awaitingApproval', 'currentStep', 'paused'],
        append: {},
      },
    ],
    [
      'a release without warnings records none',
      released([]),
      { set: {}, setOnce: {}, clear: ['awaitingApproval', 'currentStep', 'paused'], append: {} },
    ],
    [
      'a release set up without evidence records none',
      { at: AT, kind: 'released', summary: 'rehearsal set-up' },
      { set: {}, setOnce: {}, clear: ['awaitingApproval', 'currentStep', 'paused'], append: {} },
    ],
    [
      'a failure closes any approval, step and pause',
      { at: AT, kind: 'failed', summary: 'timed out', evidence: { error: { Error: 'States.Timeout' } } },
      { set: {}, setOnce: {}, clear: ['awaitingApproval', 'currentStep', 'paused'], append: {} },
    ],
    [
      'a pause request holds the bake, the first one wins',
      { at: AT, kind: 'pause-requested', summary: 'paused', evidence: { by: 'dana', reason: 'db work' } },
      { set: {}, setOnce: { paused: { pausedAt: AT, by: 'dana', reason: 'db work' } }, clear: [], append: {} },
    ],
    [
      'a resume lets it go on',
      { at: AT, kind: 'resumed', summary: 'resumed', evidence: { by: 'dana', pausedSeconds: 60 } },
      { set: {}, setOnce: {}, clear: ['paused'], append: {} },
    ],
    [
      'a duplicate delivery is noted by its execution',
      { at: AT, kind: 'duplicate-delivery', summary: 'ignored', evidence: { eventId: 'e', execution: 'copy-a' } },
      { set: {}, setOnce: {}, clear: [], append: { notedDuplicates: ['copy-a'] } },
    ],
    [
      'a traffic shift records the step traffic is on (what a pause needs to see a bake)',
      {
        at: AT,
        kind: 'traffic-shifted',
        summary: '10%',
        evidence: { stepIndex: 0, stepCount: 2, percent: 10, bakeSeconds: 300 },
      },
      {
        set: { currentStep: { stepIndex: 0, stepCount: 2, percent: 10, shiftedAt: AT } },
        setOnce: {},
        clear: [],
        append: {},
      },
    ],
  ])('%s', (_name, event, change) => {
    expect(stateChange(event)).toEqual(change);
  });

  it('applies to a record held as one value: the first fast-forward wins, duplicates add up, answers clear', () => {
    let state: ReleaseState = {};
    for (const event of [
      fastForward,
      { ...fastForward, summary: 'fast-forward requested by eve: later', evidence: { by: 'eve', reason: 'later' } },
      approvalRequested,
      { at: AT, kind: 'duplicate-delivery', summary: 'a', evidence: { eventId: 'e', execution: 'copy-a' } },
      { at: AT, kind: 'duplicate-delivery', summary: 'b', evidence: { eventId: 'e', execution: 'copy-b' } },
    ] satisfies ReleaseEvent[]) {
      state = applyStateChange(state, event);
    }
    expect(state).toEqual({
      fastForwardRequested: fastForward,
      awaitingApproval: { requestedAt: AT, expiresAt: '2026-11-26T11:00:00.000Z' },
      notedDuplicates: ['copy-a', 'copy-b'],
    });
    expect(applyStateChange(state, { at: AT, kind: 'approved', summary: 'ok' })).not.toHaveProperty('awaitingApproval');
  });
});
