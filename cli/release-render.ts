import type { EnvironmentStatus } from '../api/environment-status.ts';
import type { HealthDecision, ReleaseDetail, ReleaseSummary } from '../api/release-view.ts';
import { fleetLines, fleetStatusLines, fleetVersionsLine } from './fleet-render.ts';
import { clockTime, minutes, type Output, progressBar } from './output.ts';

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
  if (detail.fleet) return fleetVersionsLine(detail.fleet);
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
  // An older API's answer has no `fleet`.
  if (detail.fleet) lines.push(...fleetLines(out, detail.fleet, detail.releaseId, options));
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

/** `switchyard status`: per environment, what is live, blue and green, and the release in flight. */
export function statusLines(
  out: Output,
  environments: readonly EnvironmentStatus[],
  link: (releaseId: string) => string,
  virtual: boolean,
): string[] {
  const live = (e: EnvironmentStatus) =>
    e.live
      ? `${e.live.version}${e.live.routing ? ` + ${Math.round(e.live.routing.weight * 1000) / 10}% on ${e.live.routing.version}` : ''}`
      : 'not deployed';
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
      `${e.name.padEnd(9)}${live(e).padEnd(20)}${(e.blue ?? '—').padEnd(6)}${(e.green ?? '—').padEnd(7)}${(e.promotesTo ?? '—').padEnd(9)}${flight}`,
    );
  }
  for (const e of environments) lines.push(...fleetStatusLines(out, e));
  for (const e of environments) {
    if (e.runningRelease) lines.push(`  ${e.name}: ${link(e.runningRelease.releaseId)}`);
  }
  return lines;
}
