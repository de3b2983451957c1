// The local console: the release API (the same routes as in the cloud) plus the local runtime's graph and events.
const SVG = 'http://www.w3.org/2000/svg';
const STATUS_LABEL = {
  starting: 'Starting',
  running: 'Running',
  released: 'Released',
  'rolled-back': 'Rolled back',
  failed: 'Release failed',
  aborted: 'Aborted',
};
const STRATEGIES = {
  'all-at-once': { kind: 'all-at-once' },
  canary: { kind: 'canary', percent: 10, bakeMinutes: 5 },
  linear: { kind: 'linear', percentPerStep: 25, minutesPerStep: 2 },
};

const $ = (id) => document.getElementById(id);
let graph;
let selected;
let current;
let environments = [];
let inspected;

// Every call rides on the session cookie the login link set (HttpOnly: this script never sees a credential).
async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body ? { 'content-type': 'application/json' } : {},
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const fields = (data.errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new Error(`${response.status} ${data.message ?? ''}${fields ? ` (${fields})` : ''}`);
  }
  return data;
}

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function message(text, error = false) {
  $('message').textContent = text;
  $('message').className = error ? 'error' : '';
}

function drawGraph() {
  const root = svg('svg', {
    viewBox: `0 0 ${graph.width} ${graph.height}`,
    width: graph.width,
    height: graph.height,
    'data-width': graph.width,
  });
  const defs = svg('defs');
  for (const [id, color] of [
    ['arrow', '#8d9a9b'],
    ['arrow-catch', '#d9786b'],
    ['arrow-taken', '#1d8102'],
  ]) {
    const marker = svg('marker', {
      id,
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }));
    defs.append(marker);
  }
  root.append(defs);
  for (const edge of graph.edges) {
    const path = svg('path', {
      class: `edge ${edge.kind}${edge.back ? ' back' : ''}`,
      d: edge.path,
      'data-from': edge.from,
      'data-to': edge.to,
      'data-points': JSON.stringify(edge.points),
    });
    path.append(svg('title', {}, `${edge.from} → ${edge.to}${edge.kind === 'catch' ? ' (on error)' : ''}`));
    root.append(path);
  }
  for (const node of graph.nodes) {
    const g = svg('g', {
      class: `node ${node.type}`,
      'data-state': node.name,
      transform: `translate(${node.x},${node.y})`,
      tabindex: 0,
      role: 'button',
    });
    g.append(svg('rect', { width: node.width, height: node.height }));
    g.append(svg('text', { x: node.width / 2, y: node.height / 2 }, node.name));
    g.append(svg('title', {}, `${node.name} (${node.type})`));
    g.addEventListener('click', () => inspect(node.name));
    root.append(g);
  }
  $('graph').replaceChildren(root);
}

function highlight(release) {
  const byState = new Map();
  for (const step of release.steps) byState.set(step.name, step.outcome);
  const path = release.steps.map((s) => s.name);
  for (const node of document.querySelectorAll('#graph .node')) {
    const name = node.getAttribute('data-state');
    const outcome = byState.get(name);
    node.classList.remove('succeeded', 'failed', 'current');
    if (name === release.currentState && release.executionStatus === 'RUNNING') node.classList.add('current');
    else if (outcome === 'succeeded') node.classList.add('succeeded');
    else if (outcome === 'failed') node.classList.add('failed');
    else if (outcome === 'running') node.classList.add('current');
    const fail = ['Rolled back', 'Release failed', 'Rollback failed'];
    if (outcome === 'succeeded' && fail.includes(name)) {
      node.classList.replace('succeeded', 'failed');
    }
  }
  const taken = new Set(path.slice(1).map((to, i) => `${path[i]}->${to}`));
  for (const edge of document.querySelectorAll('#graph .edge')) {
    edge.classList.toggle('taken', taken.has(`${edge.getAttribute('data-from')}->${edge.getAttribute('data-to')}`));
  }
}

/** A round axis top at or above `value`, with the step between ticks (at most five ticks). */
function niceAxis(value) {
  for (const magnitude of [0.01, 0.1, 1, 10, 100]) {
    for (const unit of [1, 2, 2.5, 5]) {
      const step = unit * magnitude;
      if (step * 5 >= value) return { top: Math.ceil(value / step) * step, step };
    }
  }
  return { top: 100, step: 20 };
}

const judged = (c) => c.verdict !== 'insufficient-data' && c.errorRatePercent !== null;

/** Blue's numbers over the same window, when the relative judge read them (null on absolute-only checks). */
const blueOf = (c) => c.evidence.blue ?? null;
/** Blue is drawn as a rate only where it had the minimum calls, as green is. */
const blueJudged = (c) => {
  const blue = blueOf(c);
  return (
    blue !== null &&
    blue.sample.errorRatePercent !== null &&
    blue.sample.invocations >= c.evidence.thresholds.minInvocations
  );
};

const ENVIRONMENT_UNHEALTHY = 'environment unhealthy: blue fails as badly as green (not a release failure)';

/** The relative judge's test for a check, in words; empty when the check had no comparison. */
function comparisonText(c) {
  const k = c.evidence.comparison;
  if (!k) return '';
  return `${k.test}: green ${k.greenRatePercent}% vs blue ${k.blueRatePercent}%, p = ${k.pValue} (confidence ${k.confidence * 100}%)`;
}

function checkTitle(c) {
  const blue = blueOf(c);
  const parts = [
    `${c.at}: ${c.verdict === 'environment-unhealthy' ? ENVIRONMENT_UNHEALTHY : c.verdict} at ${c.percent ?? '?'}% traffic`,
    judged(c)
      ? `green ${c.invocations} calls, ${c.errors} errors, rate ${c.errorRatePercent}%`
      : `green: too few calls to judge (${c.invocations} of ${c.evidence.thresholds.minInvocations})`,
  ];
  if (blue) {
    parts.push(
      `blue ${blue.version}: ${blue.sample.invocations} calls, ${blue.sample.errors} errors, rate ${blue.sample.errorRatePercent ?? '—'}%`,
    );
  }
  const comparison = comparisonText(c);
  if (comparison) parts.push(comparison);
  return `${parts.join('; ')} → ${c.next}`;
}

/**
 * Error rate per check against the limit: green, and blue beside it (a dashed series) once the relative judge read
 * blue. Checks with too few calls are marked as such, never drawn as 0%.
 */
function rateChart(checks) {
  const W = 460;
  const H = 170;
  const pad = { l: 48, r: 70, t: 12, b: 22 };
  const threshold = checks.at(-1).maxErrorRatePercent;
  const rates = [
    ...checks.filter(judged).map((c) => c.errorRatePercent),
    ...checks.filter(blueJudged).map((c) => blueOf(c).sample.errorRatePercent),
  ];
  const { top, step } = niceAxis(Math.max(threshold * 2, ...rates.map((r) => r * 1.1)));
  const slot = (W - pad.l - pad.r) / checks.length;
  const x = (i) => pad.l + (i + 0.5) * slot;
  // Blue sits just right of green in the same slot.
  const bx = (i) => x(i) + Math.min(6, slot / 4);
  const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / top);
  // A release failure is green over the limit; an unhealthy environment (blue fails alike) is drawn apart.
  const failing = (c) =>
    judged(c) && c.verdict !== 'environment-unhealthy' && c.errorRatePercent > c.maxErrorRatePercent;
  const crossed = checks.some(failing);
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: `rate${crossed ? ' crossed' : ''}`,
    'data-threshold': threshold,
    'data-top': top,
  });
  for (let v = 0; v <= top + step / 1000; v += step) {
    const value = Number(v.toFixed(4));
    root.append(svg('line', { class: 'grid', x1: pad.l, y1: y(value), x2: W - pad.r, y2: y(value) }));
    root.append(svg('text', { class: 'tick', x: pad.l - 4, y: y(value) + 3, 'text-anchor': 'end' }, `${value}%`));
  }
  root.append(svg('line', { class: 'axis', x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b }));
  root.append(svg('line', { class: 'threshold', x1: pad.l, y1: y(threshold), x2: W - pad.r, y2: y(threshold) }));
  root.append(svg('text', { class: 'threshold-label', x: W - pad.r + 4, y: y(threshold) + 3 }, `limit ${threshold}%`));
  // Each line joins judged checks only: a gap where a check had too few calls to judge.
  const series = (className, isJudged, at, rate) => {
    let segment = [];
    const flush = () => {
      if (segment.length > 1) root.append(svg('polyline', { class: className, points: segment.join(' ') }));
      segment = [];
    };
    checks.forEach((c, i) => {
      if (isJudged(c)) segment.push(`${at(i)},${y(rate(c))}`);
      else flush();
    });
    flush();
  };
  series('line', judged, x, (c) => c.errorRatePercent);
  series('blue-line', blueJudged, bx, (c) => blueOf(c).sample.errorRatePercent);
  checks.forEach((c, i) => {
    const blue = blueOf(c);
    if (blue && blueJudged(c)) {
      const rate = blue.sample.errorRatePercent;
      const mark = svg('rect', {
        class: `blue-point${rate > c.maxErrorRatePercent ? ' over' : ''}`,
        x: bx(i) - 3,
        y: y(rate) - 3,
        width: 6,
        height: 6,
        'data-check': i,
        'data-rate': rate,
      });
      mark.append(svg('title', {}, checkTitle(c)));
      root.append(mark);
    } else if (blue) {
      // On the floor beside green's, as green's: a check blue had too few calls for, not a 0% rate.
      const at = x(i) + Math.min(11, slot / 3);
      const mark = svg('g', { class: 'blue-point insufficient-data', 'data-check': i, 'data-rate': '' });
      mark.append(svg('rect', { x: at - 4, y: H - pad.b - 13, width: 8, height: 8 }));
      mark.append(svg('text', { class: 'na', x: at, y: H - pad.b - 6, 'text-anchor': 'middle' }, '?'));
      mark.append(svg('title', {}, checkTitle(c)));
      root.append(mark);
    }
    if (!judged(c)) {
      const mark = svg('g', { class: 'point insufficient-data', 'data-check': i, 'data-rate': '' });
      mark.append(svg('rect', { x: x(i) - 5, y: H - pad.b - 14, width: 10, height: 10 }));
      mark.append(svg('text', { class: 'na', x: x(i), y: H - pad.b - 6, 'text-anchor': 'middle' }, '?'));
      mark.append(svg('title', {}, checkTitle(c)));
      root.append(mark);
      return;
    }
    const over = failing(c);
    const point = svg('circle', {
      class: `point ${c.verdict}${over ? ' over' : ''}`,
      cx: x(i),
      cy: y(c.errorRatePercent),
      r: 4,
      'data-check': i,
      'data-rate': c.errorRatePercent,
    });
    point.append(svg('title', {}, checkTitle(c)));
    root.append(point);
    // The environment, not the release, is failing: said on the chart, not coloured as a release failure.
    if (c.verdict === 'environment-unhealthy') {
      root.append(
        svg(
          'text',
          { class: 'env-label', x: x(i), y: Math.max(pad.t + 8, y(c.errorRatePercent) - 7), 'text-anchor': 'middle' },
          'env',
        ),
      );
    }
  });
  return root;
}

/** Calls per check against the minimum the verdict needs: green's bar, and blue's beside it when blue was read. */
function callsChart(checks) {
  const W = 460;
  const H = 110;
  const pad = { l: 48, r: 70, t: 10, b: 18 };
  const min = checks.at(-1).evidence.thresholds.minInvocations;
  const blueCalls = checks.filter((c) => blueOf(c)).map((c) => blueOf(c).sample.invocations);
  const { top, step } = niceAxis(Math.max(min * 1.5, ...checks.map((c) => c.invocations), ...blueCalls));
  const slot = (W - pad.l - pad.r) / checks.length;
  const paired = blueCalls.length > 0;
  const width = Math.max(1, Math.min(24, slot * (paired ? 0.4 : 0.7)));
  const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / top);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'calls', 'data-min': min });
  for (let v = 0; v <= top + step / 1000; v += step) {
    root.append(svg('text', { class: 'tick', x: pad.l - 4, y: y(v) + 3, 'text-anchor': 'end' }, String(Math.round(v))));
  }
  root.append(svg('line', { class: 'axis', x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b }));
  const bar = (className, left, calls, title) => {
    const rect = svg('rect', {
      class: `${className}${calls < min ? ' short' : ''}`,
      x: left,
      y: y(calls),
      width,
      height: H - pad.b - y(calls),
      'data-calls': calls,
    });
    rect.append(svg('title', {}, title));
    root.append(rect);
  };
  checks.forEach((c, i) => {
    const centre = pad.l + (i + 0.5) * slot;
    const left = paired ? centre - width : centre - width / 2;
    bar('bar', left, c.invocations, `green: ${c.invocations} calls (minimum ${min})`);
    const blue = blueOf(c);
    if (blue)
      bar(
        'blue-bar',
        centre,
        blue.sample.invocations,
        `blue ${blue.version}: ${blue.sample.invocations} calls (minimum ${min})`,
      );
  });
  root.append(svg('line', { class: 'minimum', x1: pad.l, y1: y(min), x2: W - pad.r, y2: y(min) }));
  root.append(svg('text', { class: 'minimum-label', x: W - pad.r + 4, y: y(min) + 3 }, `min ${min} calls`));
  return root;
}

function drawChart(release) {
  const checks = release.healthChecks;
  const box = $('chart');
  if (checks.length === 0) {
    box.replaceChildren(el('p', { class: 'empty' }, 'No health check yet: checks start once traffic moves.'));
    return;
  }
  const short = checks.filter((c) => !judged(c)).length;
  const blueVersion = checks.findLast((c) => blueOf(c))?.evidence.blue.version;
  const legend = el('p', { class: 'legend' });
  legend.append(
    el('span', { class: 'key point' }),
    el('span', { class: 'series', 'data-series': 'green' }, ` green ${release.greenVersion ?? '(new version)'} `),
  );
  if (blueVersion !== undefined) {
    legend.append(
      el('span', { class: 'key blue' }),
      el('span', { class: 'series', 'data-series': 'blue' }, ` blue ${blueVersion} (same window) `),
    );
  }
  legend.append(
    el('span', { class: 'key over' }),
    document.createTextNode(' over the limit '),
    el('span', { class: 'key na' }, '?'),
    document.createTextNode(' too few calls to judge'),
  );
  if (checks.some((c) => c.verdict === 'environment-unhealthy')) {
    legend.append(el('span', { class: 'key env' }, 'env'), document.createTextNode(` ${ENVIRONMENT_UNHEALTHY}`));
  }
  const last = checks.findLast((c) => c.evidence.comparison);
  const parts = [
    el('h4', {}, `Error rate per check (${checks.length} checks${short ? `, ${short} with too few calls` : ''})`),
    rateChart(checks),
    el('h4', {}, 'Calls per check against the minimum'),
    callsChart(checks),
    legend,
  ];
  if (last)
    parts.push(el('p', { class: 'comparison' }, `Last comparison, green against blue: ${comparisonText(last)}`));
  box.replaceChildren(...parts);
}

function drawTimeline(release) {
  const items = release.events.map((event) => {
    const li = el('li', { class: event.kind });
    li.append(el('time', {}, event.at.slice(11, 19)));
    li.append(el('span', { class: 'kind' }, event.kind));
    li.append(document.createTextNode(` ${event.summary}`));
    return li;
  });
  $('timeline').replaceChildren(...items);
}

const minutes = (seconds) => Math.round((seconds / 60) * 10) / 10;

/** Why the release ended (or what the last check said): the record's reason, else the abort or the last check. */
function verdictOf(release) {
  const label = STATUS_LABEL[release.status] ?? release.status;
  const abort = release.events.findLast((e) => e.kind === 'abort-requested');
  const check = release.progress?.lastCheck ?? release.healthChecks.at(-1);
  if (release.status === 'aborted')
    return { kind: 'aborted', text: `${label}: ${abort?.summary ?? release.reason ?? 'stopped'}` };
  if (release.status === 'released') {
    const fleet = membersOf(release);
    const live = fleet
      ? `every member (${fleet.members.length}) live on its green`
      : `live on version ${release.greenVersion}`;
    return { kind: 'released', text: `${label}: ${live}` };
  }
  if (!['running', 'starting'].includes(release.status)) {
    return { kind: release.status, text: `${label}${release.reason ? `: ${release.reason}` : ''}` };
  }
  if (release.awaitingApproval) return { kind: 'waiting', text: 'waiting for approval' };
  if (check?.verdict === 'environment-unhealthy') {
    return { kind: check.verdict, text: `${ENVIRONMENT_UNHEALTHY}: ${check.reasons.join('; ')}` };
  }
  if (check) return { kind: check.verdict, text: `${check.verdict}: ${check.reasons.join('; ')}` };
  return { kind: release.status, text: label };
}

/** Above this many members a cell shows the member's name only (its phase and share are in its tooltip). */
const COMPACT_FLEET = 40;

/** A release's targets when it moves more than one function; a single target reads as a single function always has. */
const membersOf = (release) => (release.targets?.members.length > 1 ? release.targets : null);

/** One member as a cell of the fleet grid: its verdict colours it, the member that tripped the fleet stands out. */
function memberCell(fleet, m) {
  const verdict = m.verdict?.verdict ?? 'unjudged';
  const tripped = m.name === fleet.trippedBy;
  const cell = el('li', {
    class: `member ${verdict} phase-${m.phase}${tripped ? ' tripped' : ''}`,
    'data-member': m.name,
    'data-phase': m.phase,
    'data-verdict': verdict,
    title: [
      `${m.name} (${m.functionName})`,
      `wave ${m.wave + 1} · ${m.phase} · ${m.percent}% on ${m.greenVersion ?? 'the new version'}, blue ${m.blueVersion ?? 'none'}`,
      m.verdict ? `${verdict}: ${m.verdict.reason}` : 'not judged yet',
      tripped ? 'tripped the fleet: every member that moved rolls back' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  });
  cell.append(el('span', { class: 'name' }, m.name));
  cell.append(el('span', { class: 'state' }, `${m.phase} · ${m.percent}%`));
  if (tripped) cell.append(el('span', { class: 'tripped-label' }, 'tripped'));
  return cell;
}

/** The fleet's members as a grid, a row per wave: the wave moving is marked, each wave's phases counted. */
function drawFleet(release) {
  const fleet = membersOf(release);
  $('fleet').hidden = !fleet;
  if (!fleet) return;
  const parts = [`${fleet.members.length} members in ${fleet.waveCount} waves`];
  if (fleet.currentWave !== null) parts.push(`wave ${fleet.currentWave + 1} moving`);
  if (fleet.trippedBy) parts.push(`halted by ${fleet.trippedBy}`);
  $('fleet-headline').textContent = `— ${parts.join(' · ')}`;
  const halt = fleet.halted;
  $('fleet-halt').hidden = !halt;
  $('fleet-halt').textContent = halt
    ? `${halt.trippedBy}${halt.wave === null ? '' : ` (wave ${halt.wave + 1})`} tripped the fleet: ${halt.reasons.join('; ')}`
    : '';
  $('fleet').classList.toggle('compact', fleet.members.length > COMPACT_FLEET);
  const waves = fleet.waves.map((wave) => {
    const row = el('div', {
      class: `wave${wave.wave === fleet.currentWave ? ' moving' : ''}`,
      'data-wave': String(wave.wave),
    });
    const tally = Object.entries(wave.phases)
      .map(([phase, n]) => `${n} ${phase}`)
      .join(', ');
    const head = el('div', { class: 'wave-head' });
    head.append(
      el('strong', {}, `Wave ${wave.wave + 1}`),
      el('span', {}, `${wave.members} member${wave.members === 1 ? '' : 's'} · ${tally}`),
    );
    const cells = el('ul', { class: 'members' });
    cells.append(...fleet.members.filter((m) => m.wave === wave.wave).map((m) => memberCell(fleet, m)));
    row.append(head, cells);
    return row;
  });
  $('fleet-waves').replaceChildren(...waves);
}

function showSummary(release) {
  const field = (name) => document.querySelector(`#summary [data-field="${name}"] dd`);
  const p = release.progress;
  const ended = !['running', 'starting'].includes(release.status);
  const blue = release.blueVersion ?? 'none';
  const green = release.greenVersion ?? '…';
  let live = `${blue}`;
  if (release.status === 'released') live = green;
  else if (!ended && p) live = p.percent >= 100 ? green : `${blue} (${100 - p.percent}%) + ${green} (${p.percent}%)`;
  field('environment').textContent = release.environment;
  field('versions').textContent = `${blue} · ${green} · ${live}`;
  const weight = release.status === 'released' ? 100 : ended ? 0 : (p?.percent ?? 0);
  field('weight').textContent = `${weight}%`;
  const fleet = membersOf(release);
  if (fleet) {
    // Each member is its own function with its own versions: the grid below shows them member by member.
    const members = fleet.members;
    const blues = new Set(members.map((m) => m.blueVersion ?? 'none'));
    const greens = new Set(members.map((m) => m.greenVersion ?? '…'));
    field('versions').textContent =
      blues.size === 1 && greens.size === 1 ? `${[...blues][0]} · ${[...greens][0]} on every member` : 'per member';
    field('weight').textContent = `${members.filter((m) => m.percent > 0).length} of ${members.length} members`;
  }
  field('step').textContent = p ? `${p.stepIndex + 1} of ${p.stepCount ?? '?'}` : 'before traffic';
  const bake = document.querySelector('#summary [data-field="bake"]');
  const share = p && p.bakeSeconds > 0 ? Math.min(1, p.bakedSeconds / p.bakeSeconds) : 0;
  bake.querySelector('.bar span').style.width = `${Math.round(share * 100)}%`;
  bake.querySelector('.text').textContent = p
    ? p.bakeSeconds > 0
      ? `${minutes(p.bakedSeconds)} of ${minutes(p.bakeSeconds)} min`
      : 'no bake'
    : '—';
  bake.setAttribute('data-share', share.toFixed(2));
  const verdict = verdictOf(release);
  const cell = document.querySelector('#summary [data-field="verdict"]');
  cell.setAttribute('data-verdict', verdict.kind);
  field('verdict').textContent = verdict.text;
  $('summary').hidden = false;
}

function showDetail(release) {
  current = release;
  $('detail').hidden = false;
  $('release-id').textContent = release.releaseId;
  const status = $('status');
  status.textContent = STATUS_LABEL[release.status] ?? release.status;
  status.className = `badge ${release.status}`;
  $('current-state').textContent = release.currentState ? `in ${release.currentState}` : '';
  $('release-meta').textContent = `${release.digest ?? ''}${release.trigger ? ` · by ${release.trigger}` : ''}`;
  showSummary(release);
  drawFleet(release);
  $('approval-banner').hidden = !release.awaitingApproval;
  const paused = release.paused;
  $('paused-banner').hidden = !paused;
  $('paused-banner').textContent = paused
    ? `Paused since ${paused.pausedAt.slice(11, 19)} by ${paused.by}${paused.reason ? ` (${paused.reason})` : ''}: checks go on, the step holds.`
    : '';
  const running = release.status === 'running' || release.status === 'starting';
  $('approve').disabled = !release.awaitingApproval;
  $('reject').disabled = !release.awaitingApproval;
  $('promote').disabled = !running;
  $('abort').disabled = !running;
  // A pause holds a bake: offered once traffic has moved and no approval is pending; a paused release offers resume.
  $('pause').disabled = !running || (!paused && (!release.progress || release.awaitingApproval));
  $('pause').textContent = paused ? 'Resume' : 'Pause';
  const next = environments.find((e) => e.name === release.environment)?.promotesTo;
  $('promote-next').disabled = release.status !== 'released' || !next;
  $('promote-next').textContent = next ? `Promote to ${next}` : 'No next environment';
  if (graph) highlight(release);
  drawChart(release);
  drawTimeline(release);
  void drawChanges(release);
  if (inspected) void inspect(inspected);
}

/** A release's diff is computed once, when it starts: read it once per release (a 404 is kept as "none"). */
const changesByRelease = new Map();

async function changesOf(releaseId) {
  if (!changesByRelease.has(releaseId)) {
    changesByRelease.set(
      releaseId,
      api('GET', `/releases/${encodeURIComponent(releaseId)}/changes`)
        .then((r) => ({ changes: r.changes }))
        .catch((error) => ({ missing: error.message })),
    );
  }
  return changesByRelease.get(releaseId);
}

/** "… and 12 more" after a list that shows only its first items. */
function moreRow(list, columns) {
  if (list.count <= list.items.length) return [];
  const row = el('tr', { class: 'more' });
  row.append(el('td', { colspan: String(columns) }, `… and ${list.count - list.items.length} more`));
  return [row];
}

/** The "What changed" panel: blue against green, as computed when the release started. */
async function drawChanges(release) {
  const found = await changesOf(release.releaseId);
  if (current?.releaseId !== release.releaseId) return;
  const panel = $('changes');
  panel.hidden = false;
  $('approval-changes').textContent = found.changes ? ` ${found.changes.summary}.` : '';
  if (!found.changes) {
    $('changes-summary').textContent = '';
    $('changes-versions').textContent = 'No change set was recorded for this release.';
    panel.querySelector('.changes-grid').hidden = true;
    $('changes-notes').replaceChildren();
    return;
  }
  const c = found.changes;
  panel.querySelector('.changes-grid').hidden = false;
  $('changes-summary').textContent = `· ${c.summary}`;
  const short = (sha) => (sha ? sha.slice(0, 12) : 'none');
  $('changes-versions').textContent = `blue ${short(c.blueCommit)} → green ${short(c.greenCommit)}`;
  $('changes-commit-count').textContent = `(${c.commits.complete ? '' : 'at least '}${c.commits.count})`;
  $('changes-commits').replaceChildren(
    ...c.commits.items.map((commit) => {
      const item = el('li');
      item.append(el('code', {}, commit.sha.slice(0, 10)), ` ${commit.subject} `);
      item.append(el('span', { class: 'muted' }, `${commit.author} · ${commit.time.slice(0, 16).replace('T', ' ')}`));
      return item;
    }),
    ...(c.commits.count > c.commits.items.length
      ? [el('li', { class: 'more' }, `… and ${c.commits.count - c.commits.items.length} more`)]
      : []),
  );
  const packageRow = (kind, name, text) => {
    const row = el('tr', { class: kind });
    row.append(el('td', {}, kind), el('td', {}, name), el('td', {}, text));
    return row;
  };
  const p = c.packages;
  const packageRows = [
    ...p.upgraded.items.map((x) => packageRow('upgraded', x.name, `${x.from} → ${x.to}`)),
    ...moreRow(p.upgraded, 3),
    ...p.downgraded.items.map((x) => packageRow('downgraded', x.name, `${x.from} → ${x.to}`)),
    ...moreRow(p.downgraded, 3),
    ...p.added.items.map((x) => packageRow('added', x.name, x.version)),
    ...moreRow(p.added, 3),
    ...p.removed.items.map((x) => packageRow('removed', x.name, x.version)),
    ...moreRow(p.removed, 3),
  ];
  $('changes-packages').tBodies[0].replaceChildren(
    ...(packageRows.length > 0 ? packageRows : [packageRow('none', 'no package changed', '')]),
  );
  const vulnerabilityRow = (kind, v) => {
    const row = el('tr', { class: `${kind} ${v.severity.toLowerCase()}` });
    row.append(el('td', {}, kind), el('td', {}, v.severity), el('td', {}, `${v.id} · ${v.package}`));
    return row;
  };
  const v = c.vulnerabilities;
  const vulnerabilityRows = [
    ...v.fixed.items.map((x) => vulnerabilityRow('fixed', x)),
    ...moreRow(v.fixed, 3),
    ...v.introduced.items.map((x) => vulnerabilityRow('introduced', x)),
    ...moreRow(v.introduced, 3),
  ];
  $('changes-vulnerabilities').tBodies[0].replaceChildren(
    ...(vulnerabilityRows.length > 0
      ? vulnerabilityRows
      : [vulnerabilityRow('none', { severity: '', id: 'no vulnerability fixed or introduced', package: '' })]),
  );
  $('changes-notes').replaceChildren(...c.notes.map((note) => el('li', {}, note)));
}

/** The state inspector: the latest run of one state with its input, output, error and retries. */
async function inspect(name) {
  inspected = name;
  for (const node of document.querySelectorAll('#graph .node')) {
    node.classList.toggle('inspected', node.getAttribute('data-state') === name);
  }
  $('inspector').hidden = false;
  $('inspector-name').textContent = name;
  if (!current) return;
  const { steps } = await api('GET', `/releases/${encodeURIComponent(current.releaseId)}/steps`).catch(() => ({
    steps: [],
  }));
  const runs = steps.filter((s) => s.name === name);
  const step = runs.at(-1);
  const facts = step
    ? [
        ['Entered', step.enteredAt],
        ['Left', step.exitedAt ?? '—'],
        ['Outcome', step.outcome],
        ['Runs', String(runs.length)],
        ['Retries', String(step.retries)],
        ['Error', step.error ?? '—'],
      ]
    : [['Outcome', 'not reached in this release']];
  $('inspector-facts').replaceChildren(
    ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-fact': k.toLowerCase() }, v)]),
  );
  $('inspector-input').textContent = step?.input === undefined ? '—' : JSON.stringify(step.input, null, 2);
  $('inspector-output').textContent = step?.output === undefined ? '—' : JSON.stringify(step.output, null, 2);
}

async function loadReleases() {
  const { releases } = await api('GET', '/releases?limit=30');
  const rows = releases.map((r) => {
    const tr = el('tr', { 'data-release-id': r.releaseId, 'data-status': r.status });
    if (r.releaseId === selected) tr.className = 'selected';
    tr.append(el('td', {}, r.releaseId), el('td', {}, r.environment), el('td', {}, STATUS_LABEL[r.status] ?? r.status));
    tr.addEventListener('click', () => select(r.releaseId));
    return tr;
  });
  $('releases').tBodies[0].replaceChildren(...rows);
}

async function loadDetail() {
  if (!selected) return;
  showDetail(await api('GET', `/releases/${encodeURIComponent(selected)}`));
}

/** A window state as `switchyard status` says it (cli/policy-render.ts): when it changes next, and why. */
function windowText(window) {
  const at = (iso) => `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} virtual`;
  if (!window || window.state === 'unrestricted') return 'releases any time';
  if (window.state === 'open') return `open, closes at ${at(window.closesAt)} (${window.window})`;
  if (window.state === 'closed') {
    return window.opensAt
      ? `closed, opens at ${at(window.opensAt)} (${window.window})`
      : 'closed, no window opens again';
  }
  return `frozen until ${at(window.until)}: ${window.reason} (${window.freeze})`;
}

/** One card per environment: what is live, its release window or freeze, its hold; then the abandoned images. */
async function loadEnvironments() {
  const body = await api('GET', '/environments');
  const cards = (body.environments ?? []).map((e) => {
    const card = el('li', { class: 'environment-card', 'data-environment': e.name });
    card.append(el('strong', {}, e.name), el('span', {}, ` live ${e.live?.version ?? '—'}`));
    const window = e.policy?.window;
    card.append(el('div', { class: `window ${window?.state ?? 'unrestricted'}` }, windowText(window)));
    const hold = e.policy?.hold;
    if (hold) card.append(el('div', { class: 'hold' }, `held by ${hold.by}: ${hold.reason}`));
    return card;
  });
  const abandoned = (body.abandonedImages ?? []).map((image) =>
    el(
      'li',
      { class: 'environment-card abandoned' },
      `abandoned ${image.imageDigest.slice(0, 19)}… by ${image.abandoned.by}: ${image.abandoned.reason}`,
    ),
  );
  $('environment-cards').replaceChildren(...cards, ...abandoned);
}

async function refresh() {
  try {
    await Promise.all([loadReleases(), loadDetail(), loadEnvironments()]);
  } catch (error) {
    message(error.message, true);
  }
}

async function select(releaseId) {
  selected = releaseId;
  inspected = undefined;
  $('inspector').hidden = true;
  history.replaceState(null, '', `#${releaseId}`);
  message('');
  await refresh();
}

async function start(event) {
  event.preventDefault();
  $('start').disabled = true;
  try {
    const failRate = $('fail-rate').value;
    const latency = $('latency').value;
    const fault = {
      ...(failRate !== '' ? { failRate: Number(failRate), failAfterRequests: Number($('fail-after').value || 0) } : {}),
      ...($('fail-health').checked ? { failHealth: true } : {}),
      ...(latency !== '' ? { latencyMs: Number(latency) } : {}),
    };
    message('building and pushing the image…');
    const pushed = await api('POST', '/local/images', {
      ...(Object.keys(fault).length > 0 ? { fault } : {}),
      emitPushEvent: false,
    });
    const strategy = STRATEGIES[$('strategy').value];
    const started = await api('POST', `/environments/${encodeURIComponent($('env').value)}/releases`, {
      imageDigest: pushed.image.digest,
      ...(strategy ? { strategy } : {}),
      reason:
        Object.keys(fault).length > 0
          ? `console rehearsal with faults ${JSON.stringify(fault)}`
          : 'started from the local console',
    });
    await select(started.releaseId);
    message(`started ${started.releaseId}`);
  } catch (error) {
    message(error.message, true);
  } finally {
    $('start').disabled = false;
  }
}

/** Every action on a release is under its environment's path; a promotion under the environment it goes to. */
function actionPath(action) {
  const id = encodeURIComponent(current.releaseId);
  if (action === 'promote-to-next') {
    const next = environments.find((e) => e.name === current.environment)?.promotesTo ?? '';
    return `/environments/${encodeURIComponent(next)}/promotions/${id}`;
  }
  return `/environments/${encodeURIComponent(current.environment)}/releases/${id}/${action}`;
}

async function act(action, body) {
  if (!current) return;
  try {
    const result = await api('POST', actionPath(action), body);
    message(result.message ?? `${action}: done`);
    if (action === 'promote-to-next' && result.releaseId) await select(result.releaseId);
    else await refresh();
  } catch (error) {
    message(error.message, true);
  }
}

async function init() {
  const info = await api('GET', '/local/info');
  environments = info.environments;
  $('runtime-info').textContent = `time ×${info.speedup} (times shown are virtual) · data ${info.dataDir}`;
  $('env').replaceChildren(
    ...info.environments.map((e) =>
      el('option', { value: e.name }, `${e.name}${e.approvalRequired ? ' (approval)' : ''}`),
    ),
  );
  graph = await api('GET', '/local/graph');
  drawGraph();
  $('start-form').addEventListener('submit', start);
  const reason = () => $('reason').value.trim();
  $('approve').addEventListener('click', () => act('approve', reason() ? { comment: reason() } : {}));
  $('reject').addEventListener('click', () => act('reject', { reason: reason() }));
  $('promote').addEventListener('click', () => act('fast-forward', { reason: reason() }));
  $('abort').addEventListener('click', () => act('abort', reason() ? { reason: reason() } : {}));
  $('pause').addEventListener('click', () =>
    current?.paused ? act('resume', {}) : act('pause', reason() ? { reason: reason() } : {}),
  );
  $('promote-next').addEventListener('click', () => act('promote-to-next', reason() ? { reason: reason() } : {}));
  if (location.hash.length > 1) selected = decodeURIComponent(location.hash.slice(1));
  await refresh();
  let pending;
  const events = new EventSource('/local/events');
  events.onmessage = () => {
    clearTimeout(pending);
    pending = setTimeout(refresh, 100);
  };
  setInterval(refresh, 2000);
}

init().catch((error) => message(error.message, true));
