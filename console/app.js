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
  canary: { kind: 'canary', percent: 10, bakeMinutes: 2 },
  linear: { kind: 'linear', percentPerStep: 25, minutesPerStep: 2 },
};

const $ = (id) => document.getElementById(id);
let graph;
let selected;
let current;

const tokenMeta = document.querySelector('meta[name="switchyard-token"]');

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      [tokenMeta.dataset.header]: tokenMeta.content,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
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
  const root = svg('svg', { width: graph.width, height: graph.height, viewBox: `0 0 ${graph.width} ${graph.height}` });
  const defs = svg('defs');
  const marker = svg('marker', {
    id: 'arrow',
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 6,
    markerHeight: 6,
    orient: 'auto',
  });
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#aab7b8' }));
  defs.append(marker);
  root.append(defs);
  for (const edge of graph.edges) {
    root.append(svg('path', { class: `edge ${edge.kind}`, d: edge.path, 'data-from': edge.from, 'data-to': edge.to }));
  }
  for (const node of graph.nodes) {
    const g = svg('g', {
      class: `node ${node.type}`,
      'data-state': node.name,
      transform: `translate(${node.x},${node.y})`,
    });
    g.append(svg('rect', { width: node.width, height: node.height }));
    g.append(svg('text', { x: node.width / 2, y: node.height / 2 }, node.name));
    const title = svg('title', {}, `${node.name} (${node.type})`);
    g.append(title);
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

function drawChart(release) {
  const checks = release.healthChecks;
  const box = $('chart');
  if (checks.length === 0) {
    box.replaceChildren(el('p', { class: 'empty' }, 'No health check yet: checks start once traffic moves.'));
    return;
  }
  const W = 460;
  const H = 200;
  const pad = { l: 44, r: 12, t: 12, b: 28 };
  const threshold = checks.at(-1).maxErrorRatePercent;
  const rates = checks.map((c) => c.errorRatePercent ?? 0);
  const top = Math.max(threshold * 2, ...rates.map((r) => r * 1.1), 1);
  const x = (i) =>
    pad.l + (checks.length === 1 ? (W - pad.l - pad.r) / 2 : (i * (W - pad.l - pad.r)) / (checks.length - 1));
  const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / top);
  const crossed = rates.some((r) => r > threshold);
  const root = svg('svg', { width: W, height: H, class: crossed ? 'crossed' : '', 'data-threshold': threshold });
  root.append(svg('line', { class: 'axis', x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b }));
  root.append(svg('line', { class: 'axis', x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b }));
  for (const v of [0, top / 2, top]) {
    root.append(svg('text', { x: pad.l - 4, y: y(v) + 3, 'text-anchor': 'end' }, `${Number(v.toFixed(2))}%`));
  }
  root.append(svg('line', { class: 'threshold', x1: pad.l, y1: y(threshold), x2: W - pad.r, y2: y(threshold) }));
  root.append(svg('text', { x: W - pad.r, y: y(threshold) - 4, 'text-anchor': 'end' }, `threshold ${threshold}%`));
  root.append(svg('polyline', { class: 'line', points: rates.map((r, i) => `${x(i)},${y(r)}`).join(' ') }));
  checks.forEach((c, i) => {
    const over = (c.errorRatePercent ?? 0) > c.maxErrorRatePercent;
    const point = svg('circle', {
      class: `point ${c.verdict}${over ? ' over' : ''}`,
      cx: x(i),
      cy: y(rates[i]),
      r: 4,
      'data-rate': c.errorRatePercent ?? '',
    });
    point.append(
      svg(
        'title',
        {},
        `${c.at}: ${c.verdict} at ${c.percent ?? '?'}% traffic, ${c.invocations} calls, ${c.errors} errors, rate ${c.errorRatePercent ?? 'n/a'}% → ${c.next}`,
      ),
    );
    root.append(point);
  });
  root.append(
    svg(
      'text',
      { x: (W + pad.l) / 2, y: H - 6, 'text-anchor': 'middle' },
      `health checks (${checks.length})${crossed ? ' — threshold crossed' : ''}`,
    ),
  );
  box.replaceChildren(root);
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

function showDetail(release) {
  current = release;
  $('detail').hidden = false;
  $('release-id').textContent = release.releaseId;
  const status = $('status');
  status.textContent = STATUS_LABEL[release.status] ?? release.status;
  status.className = `badge ${release.status}`;
  $('current-state').textContent = release.currentState ? `in ${release.currentState}` : '';
  $('release-meta').textContent =
    `${release.environment} · ${release.digest ?? ''} · blue ${release.blueVersion ?? 'none'} → green ${release.greenVersion ?? '…'}${release.reason ? ` · ${release.reason}` : ''}`;
  $('approval-banner').hidden = !release.awaitingApproval;
  const running = release.status === 'running' || release.status === 'starting';
  $('approve').disabled = !release.awaitingApproval;
  $('reject').disabled = !release.awaitingApproval;
  $('promote').disabled = !running;
  $('abort').disabled = !running;
  $('promote-next').disabled = release.status !== 'released';
  if (graph) highlight(release);
  drawChart(release);
  drawTimeline(release);
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

async function refresh() {
  try {
    await Promise.all([loadReleases(), loadDetail()]);
  } catch (error) {
    message(error.message, true);
  }
}

async function select(releaseId) {
  selected = releaseId;
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
    const started = await api('POST', '/releases', {
      environment: $('env').value,
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

async function act(action, body) {
  if (!current) return;
  try {
    const result = await api('POST', `/releases/${encodeURIComponent(current.releaseId)}/${action}`, body);
    message(result.message ?? `${action}: done`);
    if (action === 'promote-to-next' && result.releaseId) await select(result.releaseId);
    else await refresh();
  } catch (error) {
    message(error.message, true);
  }
}

async function init() {
  const info = await api('GET', '/local/info');
  $('runtime-info').textContent = `time ×${info.speedup} · data ${info.dataDir}`;
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
  $('promote').addEventListener('click', () => act('promote', { reason: reason() }));
  $('abort').addEventListener('click', () => act('abort', reason() ? { reason: reason() } : {}));
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
