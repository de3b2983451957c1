import { describe, expect, it } from 'vitest';
import { environments, parseEnvironments } from '../../../config/environments.ts';
import { outsideWindowMode, type ReleasePolicy, windowStateAt } from '../../../config/release-windows.ts';
import { refuseWindowOverlaps } from '../../../config/schema.ts';

const BERLIN_WEEKDAYS: ReleasePolicy = {
  timeZone: 'Europe/Berlin',
  windows: [{ name: 'weekdays', opens: '0 9 * * MON-FRI', durationMinutes: 420 }],
  freezes: [
    {
      name: 'year-end',
      from: '2026-12-21T00:00:00+01:00',
      until: '2027-01-04T00:00:00+01:00',
      reason: 'year-end trading freeze',
    },
  ],
};

/** The shipped config with prod given `policy`, as raw input. */
function withProdPolicy(policy: unknown): Record<string, Record<string, unknown>> {
  const raw = structuredClone(environments) as Record<string, Record<string, unknown>>;
  raw.prod = { ...raw.prod, policy };
  return raw;
}

/** The config's refusal, at parse or at synth (window overlaps), which must be one line. */
function refusal(policy: unknown): string {
  try {
    refuseWindowOverlaps(parseEnvironments(withProdPolicy(policy)), new Date('2026-12-08T00:00:00Z'));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('the config was accepted');
}

describe('release windows and freezes', () => {
  it('are open inside a window with its closing time, closed outside with the next opening, in the zone', () => {
    // Tuesday 2026-12-08 10:00 in Berlin (UTC+1).
    expect(windowStateAt(BERLIN_WEEKDAYS, new Date('2026-12-08T09:00:00Z'))).toEqual({
      state: 'open',
      window: 'weekdays',
      closesAt: '2026-12-08T15:00:00.000Z',
    });
    // 16:00 Berlin: the window is half-open, so it has just closed; it opens again at 09:00 Wednesday.
    expect(windowStateAt(BERLIN_WEEKDAYS, new Date('2026-12-08T15:00:00Z'))).toEqual({
      state: 'closed',
      window: 'weekdays',
      opensAt: '2026-12-09T08:00:00.000Z',
    });
    // Friday evening: next opening Monday.
    expect(windowStateAt(BERLIN_WEEKDAYS, new Date('2026-12-11T18:00:00Z'))).toMatchObject({
      opensAt: '2026-12-14T08:00:00.000Z',
    });
    // In summer (UTC+2) the same rule opens an hour earlier in UTC.
    expect(windowStateAt(BERLIN_WEEKDAYS, new Date('2026-07-07T06:30:00Z'))).toMatchObject({
      state: 'closed',
      opensAt: '2026-07-07T07:00:00.000Z',
    });
  });

  it('a freeze wins over an open window, with its end and reason', () => {
    expect(windowStateAt(BERLIN_WEEKDAYS, new Date('2026-12-22T10:00:00Z'))).toEqual({
      state: 'frozen',
      freeze: 'year-end',
      reason: 'year-end trading freeze',
      until: '2027-01-04T00:00:00+01:00',
    });
    expect(windowStateAt(BERLIN_WEEKDAYS, new Date('2027-01-04T09:00:00Z')).state).toBe('open');
  });

  it('no windows: unrestricted; the earliest of several windows opens next', () => {
    expect(windowStateAt(undefined, new Date())).toEqual({ state: 'unrestricted' });
    expect(windowStateAt({ timeZone: 'UTC' }, new Date())).toEqual({ state: 'unrestricted' });
    const two: ReleasePolicy = {
      timeZone: 'UTC',
      windows: [
        { name: 'late', opens: '0 20 * * *', durationMinutes: 60 },
        { name: 'early', opens: '0 6 * * *', durationMinutes: 60 },
      ],
    };
    expect(windowStateAt(two, new Date('2026-12-08T12:00:00Z'))).toEqual({
      state: 'closed',
      window: 'late',
      opensAt: '2026-12-08T20:00:00.000Z',
    });
    expect(windowStateAt(two, new Date('2026-12-08T06:30:00Z'))).toMatchObject({ state: 'open', window: 'early' });
  });

  it('a push waits and an API start is refused by default; the config chooses per trigger', () => {
    expect(outsideWindowMode(undefined, 'ecr-push')).toBe('wait');
    expect(outsideWindowMode(undefined, 'api')).toBe('refuse');
    const policy = { ...BERLIN_WEEKDAYS, outsideWindow: { push: 'refuse', api: 'wait' } } as const;
    expect(outsideWindowMode(policy, 'ecr-push')).toBe('refuse');
    expect(outsideWindowMode(policy, 'api')).toBe('wait');
  });

  it('window overlaps are checked at synth, not at every parse: a handler parsing the config does not pay for them', () => {
    const overlapping = {
      timeZone: 'UTC',
      windows: [{ name: 'hourly', opens: '0 * * * *', durationMinutes: 90 }],
    };
    expect(() => parseEnvironments(withProdPolicy(overlapping))).not.toThrow();
    expect(() => refuseWindowOverlaps(parseEnvironments(withProdPolicy(overlapping)))).toThrow(
      /prod\.policy\.windows\.0: its occurrences overlap/,
    );
  });

  it('finds windows that overlap only on a daylight saving day', () => {
    // 00:30 for 150 minutes ends at 03:00 on an ordinary day (touching, not overlapping, the 03:00 window) but at
    // 04:00 on the spring change of 2027-03-28 in Berlin, when the clock skips an hour.
    const adjacent = {
      timeZone: 'Europe/Berlin',
      windows: [
        { name: 'night', opens: '30 0 * * *', durationMinutes: 150 },
        { name: 'early', opens: '0 3 * * *', durationMinutes: 60 },
      ],
    };
    expect(refusal(adjacent)).toMatch(
      /prod\.policy\.windows\.1: overlaps window "night" \(windows\.0\) at 2027-03-28T01:00:00\.000Z/,
    );
    expect(() =>
      refuseWindowOverlaps(
        parseEnvironments(withProdPolicy({ ...adjacent, timeZone: 'UTC' })),
        new Date('2026-12-08T00:00:00Z'),
      ),
    ).not.toThrow();
  });

  it('the config accepts a policy and refuses a bad zone, rule or overlap with one line naming the field', () => {
    expect(parseEnvironments(withProdPolicy(BERLIN_WEEKDAYS)).prod.policy?.timeZone).toBe('Europe/Berlin');
    expect(refusal({ ...BERLIN_WEEKDAYS, timeZone: 'Europe/Berln' })).toMatch(
      /prod\.policy\.timeZone: unknown time zone "Europe\/Berln"/,
    );
    expect(refusal({ timeZone: 'UTC', windows: [{ name: 'w', opens: '0 25 * * *', durationMinutes: 60 }] })).toMatch(
      /prod\.policy\.windows\.0\.opens: not a cron expression/,
    );
    expect(refusal({ timeZone: 'UTC', windows: [{ name: 'w', opens: '0 0 9 * * 1', durationMinutes: 60 }] })).toMatch(
      /prod\.policy\.windows\.0\.opens: must be a five-field cron expression/,
    );
    expect(
      refusal({
        timeZone: 'UTC',
        windows: [
          { name: 'morning', opens: '0 9 * * *', durationMinutes: 180 },
          { name: 'noon', opens: '0 11 * * MON', durationMinutes: 60 },
        ],
      }),
    ).toMatch(/prod\.policy\.windows\.1: overlaps window "morning" \(windows\.0\)/);
    expect(
      refusal({ timeZone: 'UTC', windows: [{ name: 'hourly', opens: '0 * * * *', durationMinutes: 90 }] }),
    ).toMatch(/prod\.policy\.windows\.0: its occurrences overlap/);
    expect(
      refusal({
        ...BERLIN_WEEKDAYS,
        freezes: [
          ...(BERLIN_WEEKDAYS.freezes ?? []),
          { name: 'audit', from: '2027-01-02T00:00:00Z', until: '2027-01-10T00:00:00Z', reason: 'audit' },
        ],
      }),
    ).toMatch(/prod\.policy\.freezes\.1: overlaps freeze "year-end" \(freezes\.0\)/);
    expect(
      refusal({
        timeZone: 'UTC',
        freezes: [{ name: 'f', from: '2027-01-02T00:00:00Z', until: '2027-01-01T00:00:00Z', reason: 'r' }],
      }),
    ).toMatch(/prod\.policy\.freezes\.0\.until: must be later than from/);
    expect(
      refusal({
        timeZone: 'UTC',
        freezes: [{ name: 'f', from: 'tomorrow', until: '2027-01-01T00:00:00Z', reason: 'r' }],
      }),
    ).toMatch(/prod\.policy\.freezes\.0\.from: must be an ISO 8601 date-time/);
  });
});
