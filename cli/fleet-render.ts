import type { EnvironmentStatus } from '../api/environment-status.ts';
import type { FleetView } from '../api/release-view.ts';
import type { FleetMemberState } from '../core/ports.ts';
import type { Output } from './output.ts';

/**
 * A fleet this size or smaller prints one row per member. A larger one prints a line per wave (its phases and
 * verdicts counted) and rows only for the members that need a look, so 100 members still fit on one screen.
 */
export const FLEET_GRID_ROWS = 20;
/** Rows of members that need a look before the rest are only counted. */
const LISTED_MEMBERS = 10;
/** The width the grid keeps to, so it reads on a narrow terminal. */
const LINE_WIDTH = 100;
const INDENT = '    ';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

/** A member that is unhealthy, failed, or tripped the fleet. */
function needsLook(fleet: FleetView, m: FleetMemberState): boolean {
  return m.verdict?.healthy === false || m.phase === 'failed' || m.name === fleet.trippedBy;
}

function memberRow(out: Output, fleet: FleetView, m: FleetMemberState, width: number): string {
  const tripped = m.name === fleet.trippedBy ? '  ◀ tripped' : '';
  const phase = m.phase === 'failed' ? out.c.red(m.phase.padEnd(12)) : m.phase.padEnd(12);
  const prefix = `${INDENT}${m.name.padEnd(width)} ${String(m.wave + 1).padStart(4)}  `;
  const share = `${String(m.percent).padStart(4)}%  `;
  // The reason takes what is left of a 100-column line.
  const room = Math.max(20, LINE_WIDTH - prefix.length - 12 - share.length - 2 - tripped.length);
  const verdict = !m.verdict
    ? out.c.dim('—')
    : m.verdict.healthy
      ? out.c.green('✓ healthy')
      : out.c.red(`✗ ${clip(m.verdict.reason, room)}`);
  return `${prefix}${phase}${share}${verdict}${out.c.bold(out.c.red(tripped))}`;
}

const header = (out: Output, width: number) =>
  out.c.bold(
    `${INDENT}${'MEMBER'.padEnd(width)} ${'WAVE'.padStart(4)}  ${'PHASE'.padEnd(12)}${'LIVE'.padStart(5)}  VERDICT`,
  );

/** A fleet's versions: each member has its own function, so its own version numbers. */
export function fleetVersionsLine(fleet: FleetView): string {
  const blues = new Set(fleet.members.map((m) => m.blueVersion ?? 'none'));
  const greens = new Set(fleet.members.map((m) => m.greenVersion ?? '—'));
  const live = fleet.members.filter((m) => m.percent > 0).length;
  const where = `${live} of ${fleet.members.length} members with live traffic on green`;
  if (blues.size === 1 && greens.size === 1)
    return `blue ${[...blues][0]} · green ${[...greens][0]} on every member · ${where}`;
  return `blue and green per member (below) · ${where}`;
}

/** The fleet's headline: its size, the wave moving and the member that halted it. */
function headline(out: Output, fleet: FleetView): string {
  const parts = [`${plural(fleet.members.length, 'member')} in ${plural(fleet.waveCount, 'wave')}`];
  if (fleet.currentWave !== null) parts.push(`wave ${fleet.currentWave + 1} of ${fleet.waveCount} moving`);
  if (fleet.trippedBy) {
    const wave = fleet.halted?.wave;
    parts.push(
      out.c.red(`halted by ${fleet.trippedBy}${wave === null || wave === undefined ? '' : ` in wave ${wave + 1}`}`),
    );
  }
  return `  fleet     ${parts.join(' · ')}`;
}

/** One wave in a line: its size, its members' phases and their verdicts, counted. */
function waveLine(out: Output, fleet: FleetView, wave: FleetView['waves'][number]): string {
  const members = fleet.members.filter((m) => m.wave === wave.wave);
  const phases = Object.entries(wave.phases)
    .map(([phase, n]) => `${n} ${phase}`)
    .join(', ');
  const healthy = members.filter((m) => m.verdict?.healthy === true).length;
  const unhealthy = members.filter((m) => m.verdict?.healthy === false).length;
  const unjudged = members.length - healthy - unhealthy;
  const verdicts = [
    healthy > 0 ? out.c.green(`${healthy} healthy`) : '',
    unhealthy > 0 ? out.c.red(`${unhealthy} unhealthy`) : '',
    unjudged > 0 ? out.c.dim(`${unjudged} not judged`) : '',
  ]
    .filter(Boolean)
    .join(', ');
  const moving = wave.wave === fleet.currentWave ? ' ▶' : '';
  return `  ${`wave ${wave.wave + 1}${moving}`.padEnd(10)}${plural(wave.members, 'member').padEnd(13)}${phases} · ${verdicts}`;
}

/**
 * The member grid of `release show` and `release watch`: every member (wave, phase, live share, verdict) for a small
 * fleet or with `allMembers`; for a larger one, a line per wave and the members that need a look.
 */
export function fleetLines(
  out: Output,
  fleet: FleetView,
  releaseId: string,
  options: { allMembers?: boolean } = {},
): string[] {
  const lines = [headline(out, fleet)];
  if (fleet.halted) {
    lines.push(out.c.red(`  halted    ${fleet.halted.trippedBy}: ${fleet.halted.reasons.join('; ')}`));
  }
  const width = Math.max(6, ...fleet.members.map((m) => m.name.length));
  if (options.allMembers || fleet.members.length <= FLEET_GRID_ROWS) {
    lines.push(header(out, width));
    for (const m of fleet.members) lines.push(memberRow(out, fleet, m, width));
    return lines;
  }
  for (const wave of fleet.waves) lines.push(waveLine(out, fleet, wave));
  // The member that tripped first, then the others in config order.
  const flagged = fleet.members
    .filter((m) => needsLook(fleet, m))
    .sort((a, b) => Number(b.name === fleet.trippedBy) - Number(a.name === fleet.trippedBy));
  if (flagged.length > 0) {
    lines.push(header(out, width));
    for (const m of flagged.slice(0, LISTED_MEMBERS)) lines.push(memberRow(out, fleet, m, width));
    if (flagged.length > LISTED_MEMBERS)
      lines.push(out.c.dim(`${INDENT}… ${flagged.length - LISTED_MEMBERS} more that need a look`));
  }
  lines.push(out.c.dim(`${INDENT}every member: switchyard release show ${releaseId} --members`));
  return lines;
}

/**
 * `switchyard status` for a fleet environment: how many members run their blue, and the ones that do not (moved
 * to another version, split mid-step, or with no alias yet), at most 10 named.
 */
export function fleetStatusLines(out: Output, env: EnvironmentStatus): string[] {
  const members = env.fleet?.members ?? [];
  if (members.length === 0) return [];
  const apart = members.filter((m) => !m.live || m.live.routing || m.live.version !== m.blue);
  const onBlue = members.length - apart.length;
  const lines = [
    `  ${env.name} fleet: ${plural(members.length, 'member')}, ${onBlue} on blue${apart.length > 0 ? `, ${apart.length} not` : ''}`,
  ];
  for (const m of apart.slice(0, LISTED_MEMBERS)) {
    const live = !m.live
      ? out.c.yellow('none')
      : m.live.routing
        ? `${m.live.version} + ${Math.round(m.live.routing.weight * 1000) / 10}% on ${m.live.routing.version}`
        : m.live.version;
    lines.push(`${INDENT}${m.name} (wave ${m.wave + 1}): live ${live}, blue ${m.blue ?? '—'}`);
  }
  if (apart.length > LISTED_MEMBERS) lines.push(out.c.dim(`${INDENT}… ${apart.length - LISTED_MEMBERS} more`));
  return lines;
}
