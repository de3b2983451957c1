import type { EnvironmentStatus } from '../api/environment-status.ts';
import type { HealthDecision, ReleaseDetail, ReleaseSummary, TargetsView } from '../api/release-view.ts';
import type { AliasState, TargetState } from '../core/ports.ts';
import { HealthVerdictSchema } from '../core/traffic.ts';
import { clockTime, minutes, type Output, progressBar } from './output.ts';

/**
 * A release of this many members or fewer prints one row per member. A larger one prints a line per wave (its phases
 * and verdicts counted) and rows only for the members that need a look, so 100 members still fit on one screen.
 */
export const FLEET_GRID_ROWS = 20;
/** Rows of members that need a look before the rest are only counted. */
const LISTED_MEMBERS = 10;
/** The width the grid keeps to, so it reads on a narrow terminal. */
const LINE_WIDTH = 100;
const INDENT = '    ';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

/** "12 deployed, 3 verified, 80 live": the members' phases, counted in their order. */
export function phaseTally(members: readonly TargetState[]): string {
  const counts = new Map<string, number>();
  for (const m of members) counts.set(m.phase, (counts.get(m.phase) ?? 0) + 1);
  return [...counts].map(([phase, n]) => `${n} ${phase}`).join(', ');
}

/** A release of more than one target shows its members; one target reads as a single function always has. */
export function membersOf(detail: Pick<ReleaseDetail, 'targets'>): TargetsView | undefined {
  return detail.targets && detail.targets.members.length > 1 ? detail.targets : undefined;
}

/** A check's evidence in one line: verdict, calls against the minimum, errors, rate against the limit. */
export function checkLine(out: Output, check: HealthDecision, virtual: boolean): string {
  const t = check.evidence.thresholds;
  const rate = check.errorRatePercent === null ? 'n/a' : `${check.errorRatePercent}%`;
  const window = check.evidence.window;
  const span = window ? ` in ${minutes((Date.parse(window.end) - Date.parse(window.start)) / 1000)} min` : '';
  const calls = `${check.invocations} calls${span} (min ${t.minInvocations})`;
  return `${out.verdict(check.verdict)} — ${calls}, ${check.errors} errors, error rate ${rate} (limit ${check.maxErrorRatePercent}%) → ${check.next}, ${clockTime(check.at, virtual)}`;
}

/** Which versions are where: blue (what rollback restores), green (the new one) and live's split. */
function versionsLine(detail: ReleaseDetail): string {
  const fleet = membersOf(detail);
  if (fleet) {
    // Each member is its own function, with its own version numbers.
    const blues = new Set(fleet.members.map((m) => m.blueVersion ?? 'none'));
    const greens = new Set(fleet.members.map((m) => m.greenVersion ?? '—'));
    const where = `${fleet.members.filter((m) => m.percent > 0).length} of ${fleet.members.length} members with live traffic on green`;
    if (blues.size > 1 || greens.size > 1) return `blue and green per member (below) · ${where}`;
    return `blue ${[...blues][0]} · green ${[...greens][0]} on every member · ${where}`;
  }
  const blue = detail.blueVersion ?? 'none';
  const green = detail.greenVersion ?? '—';
  const p = detail.progress;
  let live: string;
  if (detail.status === 'released') live = `100% on ${green}`;
  else if (detail.status === 'rolled-back' || detail.status === 'aborted' || detail.status === 'failed')
    live = `back on ${blue}`;
  else if (p && p.percent >= 100) live = `100% on ${green}`;
  else if (p) live = `${100 - p.percent}% on ${blue}, ${p.percent}% on ${green}`;
  else live = `100% on ${blue}`;
  return `blue ${blue} · green ${green} · live ${live}`;
}

function stepLine(detail: ReleaseDetail): string | undefined {
  const p = detail.progress;
  if (!p) return undefined;
  const of = p.stepCount === null ? '' : ` of ${p.stepCount}`;
  const bake =
    p.bakeSeconds > 0
      ? `${progressBar(p.bakedSeconds, p.bakeSeconds)} ${minutes(p.bakedSeconds)} of ${minutes(p.bakeSeconds)} min baked`
      : 'no bake';
  return `step ${p.stepIndex + 1}${of} at ${p.percent}%  ${bake}`;
}

/** "paused since …", with who paused it and how to resume. */
export function pausedLine(paused: NonNullable<ReleaseDetail['paused']>, releaseId: string, virtual: boolean): string {
  const why = paused.reason ? ` (${paused.reason})` : '';
  return `⏸ paused since ${clockTime(paused.pausedAt, virtual)} by ${paused.by}${why}: switchyard release resume ${releaseId}`;
}

/** The live view `watch` redraws on a terminal: Argo's `get rollout --watch`, for one release. */
export function watchFrame(
  out: Output,
  detail: ReleaseDetail,
  link: string,
  virtual: boolean,
  options: { allMembers?: boolean } = {},
): string[] {
  const lines = [
    `${out.status(detail.status)}  ${out.c.bold(detail.releaseId)}  ${detail.environment}${detail.currentState ? `  now in: ${detail.currentState}` : ''}`,
    `  versions  ${versionsLine(detail)}`,
  ];
  const step = stepLine(detail);
  if (step) lines.push(`  traffic   ${step}`);
  const fleet = membersOf(detail);
  if (fleet) lines.push(...fleetLines(out, fleet, detail.releaseId, options));
  const check = detail.progress?.lastCheck ?? detail.healthChecks.at(-1);
  if (check) {
    lines.push(`  check     ${checkLine(out, check, virtual)}`);
    for (const reason of check.reasons) lines.push(out.c.dim(`            · ${reason}`));
  }
  if (detail.awaitingApproval) {
    lines.push(
      out.c.yellow(
        `  approval  waiting until ${clockTime(detail.awaitingApproval.expiresAt, virtual)}: switchyard release approve ${detail.releaseId}`,
      ),
    );
  }
  if (detail.paused)
    lines.push(out.c.yellow(`  paused    ${pausedLine(detail.paused, detail.releaseId, virtual).slice(2)}`));
  if (detail.reason) lines.push(`  reason    ${detail.reason}`);
  const last = detail.events.at(-1);
  if (last) lines.push(out.c.dim(`  last      ${clockTime(last.at, virtual)} ${last.kind}: ${last.summary}`));
  lines.push(`  console   ${link}`);
  return lines;
}

/** `release show`: the summary, the states and the history. */
export function detailLines(
  out: Output,
  detail: ReleaseDetail,
  link: string,
  virtual: boolean,
  options: { allMembers?: boolean } = {},
): string[] {
  const lines = watchFrame(out, detail, link, virtual, options);
  lines.splice(2, 0, `  image     ${detail.imageUri ?? detail.digest ?? 'unknown'}`);
  if (detail.steps.length > 0) {
    lines.push('  states:');
    for (const s of detail.steps) {
      const mark = s.outcome === 'succeeded' ? out.c.green('✓') : s.outcome === 'failed' ? out.c.red('✗') : '▶';
      lines.push(
        `    ${mark} ${s.name}${s.retries > 0 ? ` (retried ${s.retries}×)` : ''}${s.error ? ` — ${s.error}` : ''}`,
      );
    }
  }
  lines.push(`  events (${virtual ? 'virtual time' : 'UTC'}):`);
  for (const e of detail.events) lines.push(`    ${e.at.slice(11, 19)} ${e.kind}: ${e.summary}`);
  return lines;
}

export function releaseTable(
  out: Output,
  releases: readonly Pick<ReleaseSummary, 'releaseId' | 'environment' | 'status' | 'startedAt' | 'digest'>[],
  virtual: boolean,
): string[] {
  if (releases.length === 0) return ['no releases'];
  const started = virtual ? 'STARTED (virtual)' : 'STARTED (UTC)';
  const lines = [
    out.c.bold(`${'RELEASE'.padEnd(44)} ${'ENV'.padEnd(8)} ${'STATUS'.padEnd(12)} ${started.padEnd(20)} DIGEST`),
  ];
  for (const r of releases) {
    lines.push(
      `${r.releaseId.padEnd(44)} ${r.environment.padEnd(8)} ${r.status.padEnd(12)} ${r.startedAt.slice(0, 19).replace('T', ' ').padEnd(20)} ${r.digest.slice(0, 19)}…`,
    );
  }
  return lines;
}

/** A live alias: its version, and the share routed to a second one. */
const aliasLine = (live: Pick<AliasState, 'version' | 'routing'>) =>
  `${live.version}${live.routing ? ` + ${Math.round(live.routing.weight * 1000) / 10}% on ${live.routing.version}` : ''}`;

/** `switchyard status`: per environment, what is live, blue and green, and the release in flight. */
export function statusLines(
  out: Output,
  environments: readonly EnvironmentStatus[],
  link: (releaseId: string) => string,
  virtual: boolean,
): string[] {
  const lines = [
    out.c.bold(
      `${'ENV'.padEnd(9)}${'LIVE'.padEnd(20)}${'BLUE'.padEnd(6)}${'GREEN'.padEnd(7)}${'NEXT'.padEnd(9)}RELEASE IN FLIGHT`,
    ),
  ];
  for (const e of environments) {
    const paused = e.runningRelease?.paused
      ? out.c.yellow(
          `, paused since ${clockTime(e.runningRelease.paused.pausedAt, virtual)} by ${e.runningRelease.paused.by}`,
        )
      : '';
    const flight = e.runningRelease
      ? `${out.c.cyan(e.runningRelease.releaseId)} since ${clockTime(e.runningRelease.since, virtual)}${paused}`
      : out.c.dim('none');
    lines.push(
      `${e.name.padEnd(9)}${(e.live ? aliasLine(e.live) : 'not deployed').padEnd(20)}${(e.blue ?? '—').padEnd(6)}${(e.green ?? '—').padEnd(7)}${(e.promotesTo ?? '—').padEnd(9)}${flight}`,
    );
  }
  for (const e of environments) lines.push(...fleetStatusLines(out, e));
  for (const e of environments) {
    if (e.runningRelease) lines.push(`  ${e.name}: ${link(e.runningRelease.releaseId)}`);
  }
  return lines;
}

function memberRow(out: Output, fleet: TargetsView, m: TargetState, width: number): string {
  const tripped = m.name === fleet.trippedBy ? '  ◀ tripped' : '';
  const phase = m.phase === 'failed' ? out.c.red(m.phase.padEnd(12)) : m.phase.padEnd(12);
  const prefix = `${INDENT}${m.name.padEnd(width)} ${String(m.wave + 1).padStart(4)}  `;
  const share = `${String(m.percent).padStart(4)}%  `;
  // The reason takes what is left of a 100-column line.
  const room = Math.max(20, LINE_WIDTH - prefix.length - 12 - share.length - 2 - tripped.length);
  const v = m.verdict;
  const verdict = !v
    ? out.c.dim('—')
    : v.verdict === 'healthy'
      ? out.c.green('✓ healthy')
      : v.verdict === 'unhealthy'
        ? out.c.red(`✗ ${clip(v.reason, room)}`)
        : out.c.yellow(clip(`${v.verdict}: ${v.reason}`, room));
  return `${prefix}${phase}${share}${verdict}${out.c.bold(out.c.red(tripped))}`;
}

/** The fleet's headline: its size, the wave moving and the member that halted it. */
function headline(out: Output, fleet: TargetsView): string {
  const parts = [`${plural(fleet.members.length, 'member')} in ${plural(fleet.waveCount, 'wave')}`];
  if (fleet.currentWave !== null) parts.push(`wave ${fleet.currentWave + 1} of ${fleet.waveCount} moving`);
  if (fleet.trippedBy) {
    const wave = fleet.halted?.wave;
    parts.push(out.c.red(`halted by ${fleet.trippedBy}${typeof wave === 'number' ? ` in wave ${wave + 1}` : ''}`));
  }
  return `  fleet     ${parts.join(' · ')}`;
}

/** One wave in a line: its size, its members' phases and their verdicts, counted. */
function waveLine(out: Output, fleet: TargetsView, wave: TargetsView['waves'][number]): string {
  const members = fleet.members.filter((m) => m.wave === wave.wave);
  // In a fixed order, so a redrawn frame keeps its place.
  const verdicts = [...HealthVerdictSchema.options, undefined]
    .flatMap((v) => {
      const n = members.filter((m) => m.verdict?.verdict === v).length;
      return n === 0 ? [] : [v ? `${n} ${out.verdict(v)}` : out.c.dim(`${n} not judged`)];
    })
    .join(', ');
  const moving = wave.wave === fleet.currentWave ? ' ▶' : '';
  return `  ${`wave ${wave.wave + 1}${moving}`.padEnd(10)}${plural(wave.members, 'member').padEnd(13)}${phaseTally(members)} · ${verdicts}`;
}

/**
 * The member grid of `release show` and `release watch`: every member (wave, phase, live share, verdict) for a small
 * fleet or with `allMembers`; for a larger one, a line per wave and the members that need a look.
 */
export function fleetLines(
  out: Output,
  fleet: TargetsView,
  releaseId: string,
  options: { allMembers?: boolean } = {},
): string[] {
  const lines = [headline(out, fleet)];
  // The halting check's reasons each start with the member they judged.
  if (fleet.halted) lines.push(out.c.red(`  halted    ${fleet.halted.reasons.join('; ')}`));
  const width = Math.max(6, ...fleet.members.map((m) => m.name.length));
  const header = out.c.bold(
    `${INDENT}${'MEMBER'.padEnd(width)} ${'WAVE'.padStart(4)}  ${'PHASE'.padEnd(12)}${'LIVE'.padStart(5)}  VERDICT`,
  );
  if (options.allMembers || fleet.members.length <= FLEET_GRID_ROWS) {
    lines.push(header);
    for (const m of fleet.members) lines.push(memberRow(out, fleet, m, width));
    return lines;
  }
  for (const wave of fleet.waves) lines.push(waveLine(out, fleet, wave));
  // The members that need a look (unhealthy, failed, tripped): the one that tripped first, then config order.
  const flagged = fleet.members
    .filter((m) => m.verdict?.verdict === 'unhealthy' || m.phase === 'failed' || m.name === fleet.trippedBy)
    .sort((a, b) => Number(b.name === fleet.trippedBy) - Number(a.name === fleet.trippedBy));
  if (flagged.length > 0) {
    lines.push(header);
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
    const live = m.live ? aliasLine(m.live) : out.c.yellow('none');
    lines.push(`${INDENT}${m.name} (wave ${m.wave + 1}): live ${live}, blue ${m.blue ?? '—'}`);
  }
  if (apart.length > LISTED_MEMBERS) lines.push(out.c.dim(`${INDENT}… ${apart.length - LISTED_MEMBERS} more`));
  return lines;
}
