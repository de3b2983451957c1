import { Cron } from 'croner';
import * as z from 'zod';

/**
 * When an environment may release: recurring allowed windows in a named time zone and dated freezes (docs/operate.md,
 * "Release windows, freezes, abandoned images and holds"). A window is a cron expression for its opening, read in
 * the policy's IANA time zone by croner (https://www.npmjs.com/package/croner), and a duration: "weekdays 09:00–16:00
 * Europe/Berlin" is `{ opens: '0 9 * * MON-FRI', durationMinutes: 420 }`. Croner does the recurrence and the time
 * zone arithmetic, daylight saving changes included; nothing here parses a rule or a zone by hand.
 */

/** What a release that arrives outside every window does: wait in the workflow until one opens, or be refused (409). */
export const OUTSIDE_WINDOW_MODES = ['wait', 'refuse'] as const;
export type OutsideWindowMode = (typeof OUTSIDE_WINDOW_MODES)[number];

/** How far ahead the config's validation looks for openings that overlap (a leap year and a day). */
export const OVERLAP_HORIZON_DAYS = 367;

const NAME = /^[a-z][a-z0-9-]{0,39}$/;

/** The schema of an environment's `policy`, built when the config schemas are (config/schema.ts). */
export function releasePolicySchema() {
  const name = z.string().regex(NAME, 'must be lower-case letters, digits and dashes, 1–40 long');
  return z.strictObject({
    /** The IANA time zone every window's cron expression is read in, e.g. `Europe/Berlin`. */
    timeZone: z.string().refine(isTimeZone, { error: (issue) => `unknown time zone "${String(issue.input)}"` }),
    /**
     * Allowed windows. Absent or empty: releases may start at any time (freezes still apply). Otherwise a new release
     * starts only inside one of them.
     */
    windows: z
      .array(
        z.strictObject({
          name,
          /**
           * When the window opens: a five-field cron expression (minute hour day-of-month month day-of-week) in the
           * policy's time zone; a day of month and a day of week must both match (croner's `domAndDow`).
           */
          opens: z.string().superRefine((pattern, ctx) => {
            const refusal = cronRefusal(pattern);
            if (refusal) ctx.addIssue({ code: 'custom', message: refusal });
          }),
          durationMinutes: z
            .number()
            .int()
            .min(1)
            .max(7 * 24 * 60),
        }),
      )
      .max(10)
      .optional(),
    /** What a release outside every window does, per trigger. @default wait for a push, refuse for the API */
    outsideWindow: z.strictObject({ push: z.enum(OUTSIDE_WINDOW_MODES), api: z.enum(OUTSIDE_WINDOW_MODES) }).optional(),
    /** Dated freezes: no new release starts from `from` (inclusive) to `until` (exclusive), windows or not. */
    freezes: z
      .array(
        z
          .strictObject({
            name,
            from: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with an offset or Z' }),
            until: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with an offset or Z' }),
            reason: z.string().min(1).max(500),
          })
          .refine((f) => Date.parse(f.until) > Date.parse(f.from), {
            path: ['until'],
            message: 'must be later than from',
          }),
      )
      .max(50)
      .optional(),
  });
}
export type ReleasePolicy = z.infer<ReturnType<typeof releasePolicySchema>>;
export type ReleaseWindow = NonNullable<ReleasePolicy['windows']>[number];
export type ReleaseFreeze = NonNullable<ReleasePolicy['freezes']>[number];

/** Whether the runtime's time zone database (ICU, through Intl) knows the zone; croner reads zones through it too. */
export function isTimeZone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Why croner cannot read a window's opening, or undefined when it can. */
function cronRefusal(pattern: string): string | undefined {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length !== 5) {
    return `must be a five-field cron expression (minute hour day-of-month month day-of-week), not ${fields.length} fields`;
  }
  try {
    new Cron(pattern, { timezone: 'UTC', domAndDow: true });
    return undefined;
  } catch (error) {
    return `not a cron expression: ${error instanceof Error ? error.message : String(error)}`;
  }
}

const schedules = new Map<string, Cron>();

/** The window's openings as croner evaluates them in the time zone (one paused job per pattern and zone, reused). */
function schedule(window: Pick<ReleaseWindow, 'opens'>, timeZone: string): Cron {
  const key = `${timeZone} ${window.opens}`;
  let cron = schedules.get(key);
  if (!cron) {
    cron = new Cron(window.opens, { timezone: timeZone, domAndDow: true });
    schedules.set(key, cron);
  }
  return cron;
}

/** The opening of this window's occurrence that contains `at`, or undefined when none does. */
function openingContaining(window: ReleaseWindow, timeZone: string, at: Date): Date | undefined {
  // Occurrences never overlap (checked at synth), so the first opening after `at − duration` is the only one that
  // can contain `at`; occurrences are half-open: [opening, opening + duration).
  const opening = nextOpening(window, timeZone, new Date(at.getTime() - window.durationMinutes * 60_000));
  return opening && opening.getTime() <= at.getTime() ? opening : undefined;
}

/** The first opening strictly after `after` (croner's nextRun), or undefined when the rule never fires again. */
export function nextOpening(window: Pick<ReleaseWindow, 'opens'>, timeZone: string, after: Date): Date | undefined {
  return schedule(window, timeZone).nextRun(after) ?? undefined;
}

export type WindowState =
  /** No windows configured and no freeze now: a release may start at any time. */
  | { readonly state: 'unrestricted' }
  | { readonly state: 'open'; readonly window: string; readonly closesAt: string }
  /** `opensAt` null: no window ever opens again (a rule for a date in the past). */
  | { readonly state: 'closed'; readonly window: string | null; readonly opensAt: string | null }
  | { readonly state: 'frozen'; readonly freeze: string; readonly reason: string; readonly until: string };

/** The freeze in force at `at`, if any (freezes never overlap, checked at synth). */
export function freezeAt(policy: ReleasePolicy | undefined, at: Date): ReleaseFreeze | undefined {
  const t = at.getTime();
  return policy?.freezes?.find((f) => Date.parse(f.from) <= t && t < Date.parse(f.until));
}

/** Whether a release may start at `at`, and when that changes: the one evaluation status, API and workflow share. */
export function windowStateAt(policy: ReleasePolicy | undefined, at: Date): WindowState {
  const freeze = freezeAt(policy, at);
  if (freeze) return { state: 'frozen', freeze: freeze.name, reason: freeze.reason, until: freeze.until };
  const windows = policy?.windows ?? [];
  if (!policy || windows.length === 0) return { state: 'unrestricted' };
  let next: { window: string; at: Date } | undefined;
  for (const window of windows) {
    const opening = openingContaining(window, policy.timeZone, at);
    if (opening) {
      const closesAt = new Date(opening.getTime() + window.durationMinutes * 60_000);
      return { state: 'open', window: window.name, closesAt: closesAt.toISOString() };
    }
    const opens = nextOpening(window, policy.timeZone, at);
    if (opens && (!next || opens < next.at)) next = { window: window.name, at: opens };
  }
  return { state: 'closed', window: next?.window ?? null, opensAt: next ? next.at.toISOString() : null };
}

/** What a trigger does outside every window (the config's `outsideWindow`, else wait for a push, refuse the API). */
export function outsideWindowMode(policy: ReleasePolicy | undefined, trigger: 'ecr-push' | 'api'): OutsideWindowMode {
  const modes = policy?.outsideWindow ?? { push: 'wait', api: 'refuse' };
  return trigger === 'ecr-push' ? modes.push : modes.api;
}

/** One overlap the config's validation refuses, naming the field. */
export interface PolicyRefusal {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Two freezes that share an instant: cheap, so the schema refuses them wherever the config is parsed. */
export function freezeOverlaps(policy: ReleasePolicy): PolicyRefusal[] {
  const refusals: PolicyRefusal[] = [];
  const freezes = policy.freezes ?? [];
  for (const [i, a] of freezes.entries()) {
    for (const [j, b] of freezes.entries()) {
      if (j <= i) continue;
      if (Date.parse(a.from) < Date.parse(b.until) && Date.parse(b.from) < Date.parse(a.until)) {
        refusals.push({ path: ['policy', 'freezes', j], message: `overlaps freeze "${a.name}" (freezes.${i})` });
      }
    }
  }
  return refusals;
}

/**
 * Windows that overlap: two with one name, one window's occurrence reaching into its own next one, or into another
 * window's, within OVERLAP_HORIZON_DAYS of `from` (so a daylight saving change and every monthly or yearly pattern
 * is met). Overlaps make "when does it close" ambiguous and hide a typo, so the synthesis refuses them
 * (config/schema.ts `refuseWindowOverlaps`).
 */
export function policyOverlaps(policy: ReleasePolicy, from: Date): PolicyRefusal[] {
  const refusals: PolicyRefusal[] = [];
  const windows = policy.windows ?? [];
  const readable = isTimeZone(policy.timeZone);
  const names = new Map<string, number>();
  for (const [i, w] of windows.entries()) {
    const same = names.get(w.name);
    if (same !== undefined) {
      refusals.push({
        path: ['policy', 'windows', i, 'name'],
        message: `duplicate window "${w.name}" (windows.${same})`,
      });
    }
    names.set(w.name, i);
  }
  const horizon = from.getTime() + OVERLAP_HORIZON_DAYS * 86_400_000;
  const occurrences: { index: number; start: number; end: number }[] = [];
  for (const [index, window] of windows.entries()) {
    if (!readable || cronRefusal(window.opens)) continue;
    let after = from;
    for (;;) {
      const opening = nextOpening(window, policy.timeZone, after);
      if (!opening || opening.getTime() > horizon) break;
      occurrences.push({ index, start: opening.getTime(), end: opening.getTime() + window.durationMinutes * 60_000 });
      after = opening;
      if (occurrences.length > 20_000) break;
    }
  }
  occurrences.sort((a, b) => a.start - b.start || a.index - b.index);
  const reported = new Set<number>();
  for (let k = 1; k < occurrences.length; k++) {
    const previous = occurrences[k - 1];
    const current = occurrences[k];
    if (!previous || !current || current.start >= previous.end) continue;
    const index = Math.max(previous.index, current.index);
    if (reported.has(index)) continue;
    reported.add(index);
    const other = Math.min(previous.index, current.index);
    const at = new Date(current.start).toISOString();
    refusals.push({
      path: ['policy', 'windows', index],
      message:
        other === index
          ? `its occurrences overlap (one opening at ${at} falls inside the one before): shorten durationMinutes or open less often`
          : `overlaps window "${windows[other]?.name}" (windows.${other}) at ${at}`,
    });
  }
  return refusals;
}
