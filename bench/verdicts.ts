/**
 * `npm run bench:verdicts`: seeded traffic scenarios replayed through Switchyard's real `decide` and through the
 * peers' documented rollback rules, on the same requests. Writes bench/results/verdicts.json and prints the table
 * that docs/verdicts.md carries. Sources for each peer rule and each modelled delay are in docs/verdicts.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environments } from '../config/environments.ts';
import { combineOutcomes, type DecisionPolicy, decide } from '../core/decide.ts';
import type { VersionMetricsSample } from '../core/ports.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SEEDS = 10;
/** Simulated seconds: prod's 15-minute plan, its settle time, and five minutes after. */
const HORIZON_S = 22 * 60;
/** Modelled publishing delays: high-resolution EMF metrics, and Lambda's 1-minute metrics (as the local CloudWatch). */
const HIGH_RES_DELAY_S = 15;
const ONE_MINUTE_DELAY_S = 90;
/** Switchyard judges Lambda's 1-minute metrics once this much older than their minute (prod's bake.metricDelaySeconds). */
const ONE_MINUTE_CONFIG_DELAY_S = environments.prod.bake.metricDelaySeconds;

/** Deterministic PRNG (mulberry32) so every rule sees exactly the same requests. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
}

interface Scenario {
  readonly name: string;
  /** Requests per second to `live`. */
  readonly rate: number;
  /** Does the release itself misbehave (so a rollback is right)? */
  readonly releaseFault: boolean;
  /** When the fault starts, seconds after the first shift. */
  readonly onsetS: number;
  readonly errorRate: (version: 'green' | 'blue', t: number) => number;
  /** Median duration in ms. */
  readonly baseLatency: (version: 'green' | 'blue', t: number) => number;
}

const BACKGROUND = 0.001;
const flat = () => 100;

function scenarios(rate: number): Scenario[] {
  const step = (name: string, p: number): Scenario => ({
    name,
    rate,
    releaseFault: true,
    onsetS: 0,
    errorRate: (v) => (v === 'green' ? p : BACKGROUND),
    baseLatency: flat,
  });
  return [
    step('step onset 0.5%', 0.005),
    step('step onset 2%', 0.02),
    step('step onset 20%', 0.2),
    {
      name: 'latency creep +100 ms/min',
      rate,
      releaseFault: true,
      onsetS: 0,
      errorRate: () => BACKGROUND,
      baseLatency: (v, t) => (v === 'green' ? 100 + (100 * t) / 60 : 100),
    },
    {
      name: 'low traffic (1 req/s), 20% errors',
      rate: 1,
      releaseFault: true,
      onsetS: 0,
      errorRate: (v) => (v === 'green' ? 0.2 : BACKGROUND),
      baseLatency: flat,
    },
    {
      name: 'downstream outage, both versions 30% for 3 min',
      rate,
      releaseFault: false,
      onsetS: 120,
      errorRate: (_v, t) => (t >= 120 && t < 300 ? 0.3 : BACKGROUND),
      baseLatency: flat,
    },
    {
      name: 'late error (5%) in the last bake minute',
      rate,
      releaseFault: true,
      onsetS: 14.5 * 60,
      errorRate: (v, t) => (v === 'green' && t >= 14.5 * 60 ? 0.05 : BACKGROUND),
      baseLatency: flat,
    },
    {
      name: 'healthy, background noise 0.1%',
      rate,
      releaseFault: false,
      onsetS: 0,
      errorRate: () => BACKGROUND,
      baseLatency: flat,
    },
  ];
}

/** Log-spaced duration buckets (2% wide, 1 ms to 100 s): window p99s merge per-second histograms. */
const BUCKET_RATIO = Math.log(1.02);
const BUCKETS = Math.ceil(Math.log(100_000) / BUCKET_RATIO) + 1;
const bucketOf = (ms: number) =>
  Math.min(BUCKETS - 1, Math.max(0, Math.floor(Math.log(Math.max(1, ms)) / BUCKET_RATIO)));
const bucketUpper = (b: number) => Math.exp((b + 1) * BUCKET_RATIO);

interface VersionSecond {
  n: number;
  errors: number;
  histogram: Map<number, number>;
}
/** One second of traffic, split by the share the rule has green at. */
interface Second {
  green: VersionSecond;
  blue: VersionSecond;
}

/** The same requests for every rule: each carries its routing, error and latency draws. */
class Traffic {
  private readonly offsets: number[] = [0];
  private readonly route: Float64Array;
  private readonly error: Float64Array;
  private readonly spread: Float64Array;

  constructor(
    private readonly scenario: Scenario,
    seed: number,
  ) {
    const random = rng(seed);
    const counts: number[] = [];
    for (let t = 0; t < HORIZON_S; t++) {
      // Poisson arrivals by the normal approximation (at 1 req/s, rounded at zero: still about one a second).
      counts.push(Math.max(0, Math.round(scenario.rate + Math.sqrt(scenario.rate) * normal(random))));
      this.offsets.push((this.offsets.at(-1) ?? 0) + (counts.at(-1) ?? 0));
    }
    const total = this.offsets.at(-1) ?? 0;
    this.route = new Float64Array(total);
    this.error = new Float64Array(total);
    this.spread = new Float64Array(total);
    for (let i = 0; i < total; i++) {
      this.route[i] = random();
      this.error[i] = random();
      // Log-normal durations: p99 is about twice the median.
      this.spread[i] = Math.exp(0.3 * normal(random));
    }
  }

  second(t: number, greenShare: number): Second {
    const out: Second = {
      green: { n: 0, errors: 0, histogram: new Map() },
      blue: { n: 0, errors: 0, histogram: new Map() },
    };
    const errorRate = { green: this.scenario.errorRate('green', t), blue: this.scenario.errorRate('blue', t) };
    const latency = { green: this.scenario.baseLatency('green', t), blue: this.scenario.baseLatency('blue', t) };
    for (let i = this.offsets[t] ?? 0; i < (this.offsets[t + 1] ?? 0); i++) {
      const version = (this.route[i] ?? 1) < greenShare ? 'green' : 'blue';
      const bucket = out[version];
      bucket.n++;
      if ((this.error[i] ?? 1) < errorRate[version]) bucket.errors++;
      const b = bucketOf(latency[version] * (this.spread[i] ?? 1));
      bucket.histogram.set(b, (bucket.histogram.get(b) ?? 0) + 1);
    }
    return out;
  }
}

function sampleOf(
  seconds: readonly Second[],
  version: 'green' | 'blue',
  from: number,
  to: number,
): VersionMetricsSample {
  let invocations = 0;
  let errors = 0;
  const histogram = new Float64Array(BUCKETS);
  for (let t = Math.max(0, from); t < Math.min(to, seconds.length); t++) {
    const b = seconds[t]?.[version];
    if (!b) continue;
    invocations += b.n;
    errors += b.errors;
    for (const [bucket, count] of b.histogram) histogram[bucket] = (histogram[bucket] ?? 0) + count;
  }
  let p99: number | null = null;
  if (invocations > 0) {
    const rank = Math.ceil(invocations * 0.99);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += histogram[b] ?? 0;
      if (seen >= rank) {
        p99 = bucketUpper(b);
        break;
      }
    }
  }
  return { invocations, errors, throttles: 0, p99DurationMs: p99 };
}

/** The prod plan: 10% for 5 minutes, then 100% for 10. */
const PLAN = [
  { percent: 10, bakeS: 300 },
  { percent: 100, bakeS: 600 },
];

interface Outcome {
  rolledBackAtS: number | null;
  /** Green requests served after the fault's onset, until rollback (or the horizon). */
  exposed: number;
}

/** What a rule does at second t, seeing the traffic so far: `roll-back`, `shift`, `finish` or nothing. */
type RuleStep = (
  t: number,
  seconds: readonly Second[],
  step: { index: number; startedS: number },
) => 'roll-back' | 'shift' | 'finish' | undefined;

function run(traffic: Traffic, scenario: Scenario, rule: () => RuleStep): Outcome {
  const seconds: Second[] = [];
  const step = { index: 0, startedS: 0 };
  const tick = rule();
  let exposed = 0;
  let finished = false;
  for (let t = 0; t < HORIZON_S; t++) {
    const share = finished ? 1 : (PLAN[step.index]?.percent ?? 100) / 100;
    const second = traffic.second(t, share);
    seconds.push(second);
    if (t >= scenario.onsetS) exposed += second.green.n;
    if (finished) continue;
    const action = tick(t + 1, seconds, step);
    if (action === 'roll-back') return { rolledBackAtS: t + 1, exposed };
    if (action === 'shift') {
      step.index++;
      step.startedS = t + 1;
    }
    if (action === 'finish') finished = true;
  }
  return { rolledBackAtS: null, exposed };
}

/** A metric source as Check health reads it: `period`-s buckets, complete `delay` s after they end. */
interface BenchSource {
  readonly period: number;
  readonly delay: number;
}

/**
 * Switchyard: checks every `interval` s, each source judged on its own complete buckets through the real decide, the
 * sources' decisions made one by the real combineOutcomes, as core/analyse.ts does.
 */
function switchyard(
  policy: Omit<DecisionPolicy, 'bakeOver' | 'settled' | 'stepHasBake' | 'lastStep' | 'fastForward' | 'pause'>,
  interval: number,
  sources: readonly BenchSource[],
): () => RuleStep {
  return () => {
    const judgedUntil = sources.map(() => 0);
    let bakeEndedAt: number | undefined;
    return (t, seconds, step) => {
      if ((t - step.startedS) % interval !== 0) return undefined;
      const bakeOver = t - step.startedS >= (PLAN[step.index]?.bakeS ?? 0);
      if (bakeOver) bakeEndedAt ??= t;
      const blueServes = (PLAN[step.index]?.percent ?? 100) < 100;
      const judged = sources.map(({ period, delay }, i) => {
        // A step is judged from its first whole bucket of each source.
        const stepFrom = Math.ceil(step.startedS / period) * period;
        const windowStart = Math.max(judgedUntil[i] ?? 0, stepFrom);
        const dataEnd = Math.floor((t - delay) / period) * period;
        const windowEnd = Math.max(dataEnd, windowStart);
        const settled = bakeEndedAt === undefined || windowEnd >= bakeEndedAt;
        judgedUntil[i] = windowEnd;
        const decision = decide(
          {
            green: sampleOf(seconds, 'green', windowStart, windowEnd),
            greenStep: sampleOf(seconds, 'green', stepFrom, windowEnd),
            blue: blueServes ? sampleOf(seconds, 'blue', windowStart, windowEnd) : undefined,
            blueStep: blueServes ? sampleOf(seconds, 'blue', stepFrom, windowEnd) : undefined,
            firingAlarms: [],
          },
          {
            ...policy,
            bakeOver,
            settled,
            stepHasBake: true,
            lastStep: step.index + 1 >= PLAN.length,
            fastForward: false,
            pause: 'none',
          },
        );
        return { decision, fresh: windowEnd > windowStart };
      });
      const { next } = combineOutcomes(judged);
      if (next === 'roll-back') return 'roll-back';
      if (next === 'shift') {
        bakeEndedAt = undefined;
        judgedUntil.fill(t);
        return 'shift';
      }
      if (next === 'finalize') return 'finish';
      return undefined;
    };
  };
}

/** Peers watch green's 1-minute data points, each visible ONE_MINUTE_DELAY_S after its minute, until the bake ends. */
function minuteRule(evaluate: (minutes: VersionMetricsSample[]) => boolean, everySeconds = 60): () => RuleStep {
  return () => {
    const minutes: VersionMetricsSample[] = [];
    return (t, seconds, step) => {
      const bakeS = PLAN[step.index]?.bakeS ?? 0;
      // Time-based traffic shifting: the step ends when its time is up, whatever data is still in flight.
      const stepOver = t - step.startedS >= bakeS;
      if (t % everySeconds === 0) {
        const visible = Math.floor((t - ONE_MINUTE_DELAY_S) / 60);
        while (minutes.length < visible) {
          const m = minutes.length;
          minutes.push(sampleOf(seconds, 'green', m * 60, m * 60 + 60));
        }
        if (evaluate(minutes)) return 'roll-back';
      }
      if (stepOver) return step.index + 1 >= PLAN.length ? 'finish' : 'shift';
      return undefined;
    };
  };
}

/** CodeDeploy with the SAM workshop's alarm: Errors Sum > 0 per 60 s, 2 of 2 evaluation periods. */
const codeDeploy = () =>
  minuteRule((m) => {
    const last = m.slice(-2);
    return last.length === 2 && last.every((s) => s.errors > 0);
  });
/** aws-lambda-deploy as the issue states it: any Errors > 0 in the last 60 s of data. */
const anyError = () => minuteRule((m) => (m.at(-1)?.errors ?? 0) > 0);
/** Flagger: interval 1m, success rate ≥ 99% (thresholdRange min 99), rollback after `threshold` (5) failed checks. */
const flagger = () => {
  let failed = 0;
  let seen = 0;
  return minuteRule((m) => {
    if (m.length > seen) {
      seen = m.length;
      const s = m.at(-1);
      // No data counts as a failed check in Flagger ("it will also roll back if there are no metrics").
      if (!s || s.invocations === 0 || (s.errors / s.invocations) * 100 > 1) failed++;
    }
    return failed >= 5;
  });
};

const prod = environments.prod;
const prodPolicy = {
  thresholds: prod.health,
  onUnhealthy: prod.onUnhealthy,
  onInsufficientData: prod.onInsufficientData,
  judge: prod.judge.mode,
  relative: prod.judge,
  onEnvironmentUnhealthy: prod.judge.onEnvironmentUnhealthy,
} as const;

const RULES: { name: string; make: () => () => RuleStep }[] = [
  {
    name: `Switchyard prod (${prod.judge.mode}, 10 s high-res delay ${HIGH_RES_DELAY_S} s + 1-min delay ${ONE_MINUTE_CONFIG_DELAY_S} s)`,
    make: () =>
      switchyard(prodPolicy, prod.bake.checkIntervalSeconds, [
        { period: 10, delay: HIGH_RES_DELAY_S },
        { period: 60, delay: ONE_MINUTE_CONFIG_DELAY_S },
      ]),
  },
  {
    name: `Switchyard prod, high-res source alone (${prod.judge.mode}, 10 s, delay ${HIGH_RES_DELAY_S} s)`,
    make: () => switchyard(prodPolicy, 10, [{ period: 10, delay: HIGH_RES_DELAY_S }]),
  },
  {
    name: 'Switchyard absolute on 1-min metrics (before this change)',
    make: () => switchyard({ ...prodPolicy, judge: 'absolute' }, 60, [{ period: 60, delay: 120 }]),
  },
  { name: 'CodeDeploy alarm (Errors > 0, 2 of 2 min)', make: codeDeploy },
  { name: 'aws-lambda-deploy (Errors > 0 in last 60 s)', make: anyError },
  { name: 'Flagger (1m interval × threshold 5)', make: flagger },
];

interface Row {
  readonly rate: number;
  readonly scenario: string;
  readonly rule: string;
  readonly releaseFault: boolean;
  readonly rolledBack: number;
  readonly medianDetectS: number | null;
  readonly falseRollbacks: number;
  readonly missed: number;
  readonly medianExposed: number;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? null;
}

const rows: Row[] = [];
for (const rate of [200, 1000]) {
  for (const scenario of scenarios(rate)) {
    const traffics = Array.from({ length: SEEDS }, (_, i) => new Traffic(scenario, (i + 1) * 7919 + rate));
    for (const rule of RULES) {
      const outcomes: Outcome[] = [];
      for (const traffic of traffics) {
        outcomes.push(run(traffic, scenario, rule.make()));
      }
      // A rollback before the fault started is a false one, whatever the scenario.
      const early = outcomes.filter(
        (o) => o.rolledBackAtS !== null && (!scenario.releaseFault || o.rolledBackAtS <= scenario.onsetS),
      );
      const caught = scenario.releaseFault
        ? outcomes.filter((o) => o.rolledBackAtS !== null && o.rolledBackAtS > scenario.onsetS)
        : [];
      rows.push({
        rate: scenario.rate,
        scenario: scenario.name,
        rule: rule.name,
        releaseFault: scenario.releaseFault,
        rolledBack: early.length + caught.length,
        medianDetectS: median(caught.map((o) => (o.rolledBackAtS ?? 0) - scenario.onsetS)),
        falseRollbacks: early.length,
        missed: scenario.releaseFault ? SEEDS - caught.length - early.length : 0,
        medianExposed: scenario.releaseFault ? (median(outcomes.map((o) => o.exposed)) ?? 0) : 0,
      });
    }
  }
}

const header =
  '| req/s | scenario | rule | time to detect (median) | false rollbacks | missed | canary requests exposed (median) |';
const lines = [header, '|---|---|---|---|---|---|---|'];
for (const r of rows) {
  lines.push(
    `| ${r.rate} | ${r.scenario} | ${r.rule} | ${r.medianDetectS === null ? '–' : `${r.medianDetectS} s`} | ${r.falseRollbacks}/${SEEDS} | ${
      r.releaseFault ? `${r.missed}/${SEEDS}` : '–'
    } | ${r.releaseFault ? r.medianExposed : '–'} |`,
  );
}
const table = lines.join('\n');
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(ROOT, 'bench', 'results', 'verdicts.json'),
  `${JSON.stringify({ seeds: SEEDS, horizonSeconds: HORIZON_S, highResDelaySeconds: HIGH_RES_DELAY_S, oneMinuteDelaySeconds: ONE_MINUTE_DELAY_S, rows }, null, 2)}\n`,
);
console.log(table);
