import type { AbandonedImage, EnvironmentStatus } from '../api/environment-status.ts';
import type { WindowState } from '../config/release-windows.ts';
import { clockTime, type Output } from './output.ts';

/** When a window state changes next, as `switchyard status` and the console cards say it. */
export function windowSummary(window: WindowState, virtual: boolean): string {
  switch (window.state) {
    case 'unrestricted':
      return 'any time';
    case 'open':
      return `open, closes at ${dateTime(window.closesAt, virtual)} (window ${window.window})`;
    case 'closed':
      return window.opensAt
        ? `closed, opens at ${dateTime(window.opensAt, virtual)} (window ${window.window})`
        : 'closed, no window opens again';
    case 'frozen':
      return `frozen until ${dateTime(window.until, virtual)}: ${window.reason} (freeze ${window.freeze})`;
  }
}

/** `2026-12-08 15:00:00 UTC`: a window or freeze may be days away, so the date is part of it. */
function dateTime(iso: string, virtual: boolean): string {
  const utc = new Date(iso).toISOString();
  return `${utc.slice(0, 10)} ${clockTime(utc, virtual)}`;
}

/** The release policy part of `switchyard status`: each environment's window state and hold, then abandoned images. */
export function policyStatusLines(
  out: Output,
  environments: readonly EnvironmentStatus[],
  abandoned: readonly AbandonedImage[],
  virtual: boolean,
): string[] {
  // An API from before the release policy reports none: nothing to show.
  const known = environments.filter((e) => (e.policy as EnvironmentStatus['policy'] | undefined) !== undefined);
  if (known.length === 0 && abandoned.length === 0) return [];
  const lines = [out.c.bold(`${'ENV'.padEnd(9)}RELEASE WINDOW`)];
  for (const e of known) {
    const window = windowSummary(e.policy.window, virtual);
    const colour = e.policy.window.state === 'frozen' || e.policy.window.state === 'closed' ? out.c.yellow : out.c.dim;
    lines.push(`${e.name.padEnd(9)}${colour(window)}`);
    const hold = e.policy.hold;
    if (hold) {
      lines.push(
        out.c.yellow(
          `  ${e.name}: held since ${dateTime(hold.at, virtual)} by ${hold.by}: ${hold.reason}; pushes are refused until: switchyard env clear-hold ${e.name} --reason …`,
        ),
      );
    }
  }
  for (const image of abandoned) {
    lines.push(
      out.c.red(
        `abandoned ${image.imageDigest} by ${image.abandoned.by} at ${dateTime(image.abandoned.at, virtual)}: ${image.abandoned.reason}`,
      ),
    );
  }
  return lines;
}
