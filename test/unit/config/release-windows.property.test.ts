import { Cron } from 'croner';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextOpening, type ReleasePolicy, windowStateAt } from '../../../config/release-windows.ts';

/** Zones with and without daylight saving, north and south, whole-hour and odd offsets. */
const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'America/Sao_Paulo',
  'UTC',
];

/** The 2026 daylight saving changes of those zones (UTC instants), where windows are most likely to go wrong. */
const DST_CHANGES = [
  '2026-03-29T01:00:00Z', // Europe/Berlin, spring
  '2026-10-25T01:00:00Z', // Europe/Berlin, autumn
  '2026-03-08T07:00:00Z', // America/New_York, spring
  '2026-11-01T06:00:00Z', // America/New_York, autumn
  '2026-04-04T16:00:00Z', // Australia/Sydney, autumn
  '2026-10-03T16:00:00Z', // Australia/Sydney, spring
  '2026-04-04T14:00:00Z', // Pacific/Chatham, autumn
  '2026-09-26T14:00:00Z', // Pacific/Chatham, spring
].map(Date.parse);

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const arbWindow = fc.record({
  minute: fc.oneof(fc.constantFrom(0, 30, 45), fc.integer({ min: 0, max: 59 })),
  // Half the windows open in the hours a daylight saving change skips or repeats.
  hour: fc.oneof(fc.constantFrom(1, 2, 3), fc.integer({ min: 0, max: 23 })),
  weekdays: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
  // Shorter than the shortest day (23 h), so a window's occurrences never overlap.
  durationMinutes: fc.integer({ min: 1, max: 22 * 60 }),
  zone: fc.constantFrom(...ZONES),
});

/** Instants near a daylight saving change, or anywhere in 2026. */
const arbInstant = fc.oneof(
  fc
    .tuple(fc.constantFrom(...DST_CHANGES), fc.integer({ min: -3 * DAY, max: 3 * DAY }))
    .map(([change, offset]) => new Date(change + offset)),
  fc
    .integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2026-12-31T00:00:00Z') })
    .map((t) => new Date(t)),
);

type Generated = { minute: number; hour: number; weekdays: number[]; durationMinutes: number; zone: string };

function policyOf(w: Generated): ReleasePolicy {
  const opens = `${w.minute} ${w.hour} * * ${[...w.weekdays].sort().join(',')}`;
  return { timeZone: w.zone, windows: [{ name: 'generated', opens, durationMinutes: w.durationMinutes }] };
}

/**
 * The oracle: croner's own enumeration of the rule's runs, walked from a week before t. A window is open at t when
 * the last run at or before t is less than its duration before t; it next opens at the first run after t. Croner
 * places a run whose local time a spring change skips at the change itself, and runs once in a repeated autumn
 * hour (as RFC 5545 reads such times).
 */
function oracle(policy: ReleasePolicy, t: Date) {
  const window = policy.windows?.[0];
  if (!window) throw new Error('one window expected');
  const cron = new Cron(window.opens, { timezone: policy.timeZone, domAndDow: true });
  let last: number | undefined;
  for (const run of cron.enumerate(new Date(t.getTime() - 8 * DAY))) {
    if (run.getTime() > t.getTime()) {
      if (last !== undefined && t.getTime() < last + window.durationMinutes * MINUTE) {
        return { open: true as const, closesAt: last + window.durationMinutes * MINUTE };
      }
      return { open: false as const, opensAt: run.getTime() };
    }
    last = run.getTime();
  }
  return { open: false as const, opensAt: null };
}

/** The zone's UTC offset at an instant, in minutes, from the platform's time zone data. */
function offsetMinutes(zone: string, at: number): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(at))
    .find((p) => p.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d\d):(\d\d)/.exec(name ?? '');
  if (!match) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}

describe('release windows against the library', () => {
  it('"open at t", "closes at" and "next opening" agree with croner enumerating the rule', () => {
    fc.assert(
      fc.property(arbWindow, arbInstant, (generated, t) => {
        const policy = policyOf(generated);
        const state = windowStateAt(policy, t);
        const expected = oracle(policy, t);
        if (expected.open) {
          expect(state).toEqual({
            state: 'open',
            window: 'generated',
            closesAt: new Date(expected.closesAt).toISOString(),
          });
        } else {
          expect(state).toEqual({
            state: 'closed',
            window: 'generated',
            opensAt: expected.opensAt === null ? null : new Date(expected.opensAt).toISOString(),
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it("each opening is a minute croner's match accepts, or a daylight saving change that skipped it; none is missed", () => {
    fc.assert(
      fc.property(arbWindow, arbInstant, (generated, t) => {
        const policy = policyOf(generated);
        const window = policy.windows?.[0];
        if (!window) throw new Error('one window expected');
        const zone = policy.timeZone;
        const opening = nextOpening(window, zone, t);
        const cron = new Cron(window.opens, { timezone: zone, domAndDow: true });
        expect(opening).toBeDefined();
        if (!opening) return;
        const at = opening.getTime();
        expect(at).toBeGreaterThan(t.getTime());
        const skipped = offsetMinutes(zone, at) > offsetMinutes(zone, at - MINUTE);
        expect(cron.match(opening) || skipped).toBe(true);
        // A matching minute before the opening can only be the second copy of a repeated autumn hour.
        const firstMinute = Math.floor(t.getTime() / MINUTE) * MINUTE + MINUTE;
        for (let m = firstMinute; m < at; m += MINUTE) {
          if (!cron.match(new Date(m))) continue;
          const shift = offsetMinutes(zone, m - 60 * MINUTE) - offsetMinutes(zone, m);
          expect(shift).toBeGreaterThan(0);
          expect(cron.match(new Date(m - shift * MINUTE))).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });
});
