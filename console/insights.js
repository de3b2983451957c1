// The insights page: the DORA metrics of GET /insights per environment, with the daily deployments and failures
// drawn by Chart.js (loaded as a global by its UMD build).
const $ = (id) => document.getElementById(id);
const BAND_COLOUR = { elite: '#1d8102', high: '#5a9a08', medium: '#b7791f', low: '#d13212' };
const charts = new Map();
let insights;
let days = Number(new URLSearchParams(location.search).get('days') ?? 30);

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function duration(seconds) {
  if (seconds === null) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

/** The four metrics of one window, each with its figure, what it counts and its band. */
function metrics(m) {
  const cfr = m.changeFailureRate;
  return [
    {
      name: 'Deployment frequency',
      value: `${m.deploymentFrequency.perDay.toFixed(2)} / day`,
      detail: `${m.deploymentFrequency.deployments} ${m.deploymentFrequency.deployments === 1 ? 'deployment' : 'deployments'} stayed live`,
      band: m.deploymentFrequency.band,
    },
    {
      name: 'Lead time for changes',
      value: duration(m.leadTime.medianSeconds),
      detail: `median of ${m.leadTime.commits} commits · p90 ${duration(m.leadTime.p90Seconds)}`,
      band: m.leadTime.band,
    },
    {
      name: 'Change failure rate',
      value: cfr.rate === null ? '–' : `${(cfr.rate * 100).toFixed(1)}%`,
      detail: `${cfr.failures} of ${cfr.changes} changes that moved traffic`,
      band: cfr.band,
    },
    {
      name: 'Time to restore',
      value: duration(m.timeToRestore.medianSeconds),
      detail: `median of ${m.timeToRestore.restores} restores · p90 ${duration(m.timeToRestore.p90Seconds)}`,
      band: m.timeToRestore.band,
    },
  ];
}

function card(metric) {
  const node = el('div', { class: 'metric', 'data-band': metric.band ?? 'none' });
  node.append(el('h3', {}, metric.name), el('p', { class: 'value' }, metric.value));
  const band = el('span', { class: 'band' }, metric.band ?? 'no data');
  if (metric.band) band.style.background = BAND_COLOUR[metric.band];
  node.append(band, el('p', { class: 'muted' }, metric.detail));
  return node;
}

function dailyChart(canvas, m) {
  charts.get(canvas.id)?.destroy();
  const chart = new window.Chart(canvas, {
    type: 'bar',
    data: {
      labels: m.daily.map((d) => d.date.slice(5)),
      datasets: [
        { label: 'deployments that stayed', data: m.daily.map((d) => d.deployments), backgroundColor: '#1d8102' },
        { label: 'failed changes', data: m.daily.map((d) => d.failures), backgroundColor: '#d13212' },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
      },
      plugins: { legend: { position: 'bottom' } },
    },
  });
  charts.set(canvas.id, chart);
}

function draw() {
  for (const button of document.querySelectorAll('#window button')) {
    button.setAttribute('aria-pressed', String(Number(button.dataset.days) === days));
  }
  const sections = insights.environments.map(({ environment, windows }) => {
    const m = windows.find((w) => w.days === days) ?? windows[0];
    const section = el('section', { class: 'panel environment', 'data-environment': environment });
    section.append(el('h2', {}, `${environment} · last ${m.days} days`));
    const cards = el('div', { class: 'metrics' });
    cards.append(...metrics(m).map(card));
    const chartBox = el('div', { class: 'daily' });
    const canvas = el('canvas', { id: `daily-${environment}`, 'aria-label': `${environment} daily deployments` });
    chartBox.append(canvas);
    section.append(cards, chartBox);
    return { section, canvas, m };
  });
  $('environments').replaceChildren(...sections.map((s) => s.section));
  for (const { canvas, m } of sections) dailyChart(canvas, m);
  $('source').textContent = `Bands: ${insights.bands.source}. Definitions: docs/insight.md.`;
  document.body.dataset.ready = 'true';
}

async function load() {
  const response = await fetch('/insights', { credentials: 'same-origin' });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    $('message').textContent = `${response.status} ${body.message ?? ''}`;
    return;
  }
  insights = body;
  draw();
}

for (const button of document.querySelectorAll('#window button')) {
  button.addEventListener('click', () => {
    days = Number(button.dataset.days);
    history.replaceState(null, '', `?days=${days}`);
    draw();
  });
}
void load();
