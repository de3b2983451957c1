import type { DoraMetrics } from '../core/insight/dora.ts';
import type { ReleaseChanges } from '../core/insight/release-changes.ts';
import type { Output } from './output.ts';

const short = (sha: string) => sha.slice(0, 12);

/** "… and 37 more" under a list that shows only its first items. */
function more(count: number, shown: number): string[] {
  return count > shown ? [`    … and ${count - shown} more`] : [];
}

/** `switchyard release changes`: the summary, then the commits, packages and vulnerabilities, each bounded. */
export function changesLines(out: Output, releaseId: string, changes: ReleaseChanges): string[] {
  const { c } = out;
  const lines = [
    `${c.bold(releaseId)}: ${changes.summary}`,
    `  blue  ${changes.blueDigest ?? 'none (first release)'}${changes.blueCommit ? ` @ ${short(changes.blueCommit)}` : ''}`,
    `  green ${changes.greenDigest}${changes.greenCommit ? ` @ ${short(changes.greenCommit)}` : ''}`,
  ];
  lines.push('', c.bold(`Commits (${changes.commits.count}${changes.commits.complete ? '' : ', at least'})`));
  for (const commit of changes.commits.items) {
    lines.push(`  ${c.yellow(short(commit.sha))} ${commit.subject} ${c.dim(`(${commit.author}, ${commit.time})`)}`);
  }
  lines.push(...more(changes.commits.count, changes.commits.items.length));
  const { upgraded, downgraded, added, removed } = changes.packages;
  lines.push('', c.bold('Packages'));
  for (const [label, list] of [
    ['upgraded', upgraded],
    ['downgraded', downgraded],
  ] as const) {
    for (const p of list.items) lines.push(`  ${label.padEnd(10)} ${p.name} ${p.from} → ${p.to}`);
    lines.push(...more(list.count, list.items.length));
  }
  for (const [label, list] of [
    ['added', added],
    ['removed', removed],
  ] as const) {
    for (const p of list.items) lines.push(`  ${label.padEnd(10)} ${p.name} ${p.version}`);
    lines.push(...more(list.count, list.items.length));
  }
  if (upgraded.count + downgraded.count + added.count + removed.count === 0) lines.push('  none changed');
  lines.push('', c.bold('Vulnerabilities'));
  for (const [label, list] of [
    ['fixed', changes.vulnerabilities.fixed],
    ['introduced', changes.vulnerabilities.introduced],
  ] as const) {
    for (const v of list.items) {
      lines.push(`  ${label.padEnd(10)} ${v.severity.padEnd(8)} ${v.id} in ${v.package} ${v.installedVersion}`);
    }
    lines.push(...more(list.count, list.items.length));
  }
  if (changes.vulnerabilities.fixed.count + changes.vulnerabilities.introduced.count === 0)
    lines.push('  none changed');
  for (const note of changes.notes) lines.push(c.yellow(`note: ${note}`));
  return lines;
}

/** A duration in the largest unit that keeps it readable: 45 s, 12 min, 5.2 h, 3.1 d. */
export function duration(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** `switchyard insights`: one block per environment, a row per metric, a column per window. */
export function insightLines(
  out: Output,
  environments: readonly { environment: string; windows: readonly DoraMetrics[] }[],
): string[] {
  const { c } = out;
  const band = (b: string | null) =>
    b === null
      ? c.dim('no data')
      : b === 'elite' || b === 'high'
        ? c.green(b)
        : b === 'medium'
          ? c.yellow(b)
          : c.red(b);
  const lines: string[] = [];
  for (const { environment, windows } of environments) {
    lines.push(c.bold(environment));
    const cell = (text: string) => text.padEnd(30);
    lines.push(`  ${'metric'.padEnd(26)}${windows.map((w) => cell(`last ${w.days} days`)).join('')}`);
    const row = (name: string, value: (m: DoraMetrics) => [string, string | null]) =>
      lines.push(
        `  ${name.padEnd(26)}${windows
          .map((m) => {
            const [text, b] = value(m);
            return `${cell(text).slice(0, 18).padEnd(18)}${band(b).padEnd(12)}`;
          })
          .join('')}`,
      );
    row('deployments', (m) => [
      `${m.deploymentFrequency.deployments} (${m.deploymentFrequency.perDay.toFixed(2)}/day)`,
      m.deploymentFrequency.band,
    ]);
    row('lead time (median)', (m) => [duration(m.leadTime.medianSeconds), m.leadTime.band]);
    row('lead time (p90)', (m) => [duration(m.leadTime.p90Seconds), null]);
    row('change failure rate', (m) => [
      m.changeFailureRate.rate === null
        ? '–'
        : `${(m.changeFailureRate.rate * 100).toFixed(1)}% (${m.changeFailureRate.failures}/${m.changeFailureRate.changes})`,
      m.changeFailureRate.band,
    ]);
    row('time to restore (median)', (m) => [duration(m.timeToRestore.medianSeconds), m.timeToRestore.band]);
    lines.push('');
  }
  lines.push(
    c.dim('Bands: Accelerate State of DevOps Report 2023 (DORA), https://dora.dev/research/2023/dora-report/'),
  );
  return lines;
}
