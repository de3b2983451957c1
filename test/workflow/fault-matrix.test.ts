import { readFileSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { environments as configured } from '../../config/environments.ts';
import { AWS_PORTS, type AwsPort, FUNCTION_GRANTS, RECONCILE } from '../../contract/service-functions.ts';
import { pauseRelease } from '../../core/pause.ts';
import { reconcileStoppedExecution } from '../../core/reconcile.ts';
import { ecrEventToRequest } from '../../core/release-request.ts';
import type { ReleaseDependencies } from '../../handlers/release-dependencies.ts';
import type { TaskHandler } from '../../handlers/task-handler.ts';
import { startExecution } from '../../local/engine.ts';
import { STATES } from '../../state-machine/state-names.ts';
import type { AslDefinition } from '../../state-machine/synthesize.ts';
import { environmentsWith } from '../support/environments.ts';
import { FleetWorld } from './fleet-harness.ts';
import {
  DIGEST_BLUE,
  DIGEST_GREEN,
  definition,
  REGISTRY_HOST,
  ReleaseWorld,
  throttled,
  type WorldOptions,
} from './harness.ts';

/**
 * The fault matrix: every Task state backed by a handler, every port method FUNCTION_GRANTS lets it call (the same
 * table IAM is derived from), and five faults each. After every cell the release must leave nothing behind.
 */

const MODES = ['fail-once', 'fail-always', 'fail-permanently', 'time-out', 'abort'] as const;
type Mode = (typeof MODES)[number];

/** Task timeouts scaled down as the Wait states are: a hung Lambda is cut off after this many seconds. */
const SCALED_TASK_TIMEOUT_SECONDS = 1;
const RELEASE = 'release-1';

const sample = JSON.parse(readFileSync(new URL('../fixtures/ecr-image-push.json', import.meta.url), 'utf8'));
const pushInput = () => ({
  ...ecrEventToRequest(sample, 'dev'),
  repositoryName: configured.dev.repositoryName,
  imageDigest: DIGEST_GREEN,
});

/** The synthesized definition with every Task's timeout scaled down, inside the fleet's Map too; nothing else changes. */
function scaledDefinition(): AslDefinition {
  const copy = structuredClone(definition());
  const scale = (states: AslDefinition['States']) => {
    for (const state of Object.values(states)) {
      if (state.Type === 'Task' && typeof state.TimeoutSeconds === 'number') {
        state.TimeoutSeconds = SCALED_TASK_TIMEOUT_SECONDS;
      }
      const processor = (state as { ItemProcessor?: { States: AslDefinition['States'] } }).ItemProcessor;
      if (processor) scale(processor.States);
    }
  };
  scale(copy.States);
  return copy;
}

interface Scenario {
  readonly name: string;
  readonly options: WorldOptions;
  /** The world the scenario runs in. @default a ReleaseWorld with `options` */
  readonly world?: () => ReleaseWorld;
  readonly input: (world: ReleaseWorld) => unknown;
  /** The world before the release. @default version 1 live behind live, blue and green (ReleaseWorld.seed) */
  readonly seed?: (world: ReleaseWorld) => Promise<void>;
  /** Runs before the faulted execution, with no fault. */
  readonly setup?: (world: ReleaseWorld, run: (input: unknown, name: string) => Promise<unknown>) => Promise<void>;
  /** An operator's act before Check health number `check` (0-based) runs, however that state is bound. */
  readonly beforeCheck?: (world: ReleaseWorld, check: number) => Promise<void>;
  /** Every alert fails to send (SNS down): the invariants then expect none. */
  readonly alertsDown?: boolean;
}

/**
 * prod as configured, with shorter bakes (a one-minute canary, then two minutes at 100%): the same states and
 * decisions in three health checks instead of fifteen, so 240 cells fit the CI budget.
 */
const SHORT_BAKES = {
  strategy: { kind: 'canary', percent: 10, bakeMinutes: 1 },
  bake: { minutes: 2 },
} as const;
const prod = environmentsWith('prod', SHORT_BAKES);

/** Paths through the workflow; each cell runs on the first one whose fault-free run calls its method in its state. */
const SCENARIOS: readonly Scenario[] = [
  { name: 'canary released', options: { environments: prod }, input: (w) => w.apiRequest() },
  {
    name: 'canary rolled back',
    options: { environments: prod, traffic: (check) => ({ invocations: 100, errors: check < 1 ? 0 : 50 }) },
    input: (w) => w.apiRequest(),
  },
  {
    name: 'verification failed',
    options: { environments: prod, behaviour: { [DIGEST_GREEN]: { healthStatus: 503 } } },
    input: (w) => w.apiRequest(),
  },
  {
    name: 'unhealthy, alert only',
    options: {
      environments: environmentsWith('prod', { ...SHORT_BAKES, onUnhealthy: 'alert' }),
      traffic: (check) => ({ invocations: 100, errors: check === 1 ? 20 : 0 }),
    },
    input: (w) => w.apiRequest({ strategy: { kind: 'all-at-once' } }),
  },
  { name: 'ECR push', options: { environment: 'dev' }, input: () => pushInput() },
  {
    name: 'first release (no live alias yet)',
    options: { environments: prod },
    input: (w) => w.apiRequest(),
    seed: async (world) => {
      const fn = world.functionName;
      world.registry.push('switchyard-api', DIGEST_GREEN, 'git-2');
      world.functions.createFunction(fn);
      const { codeSha256 } = await world.functions.updateCodeAndWait(
        fn,
        `${REGISTRY_HOST}/switchyard-api@${DIGEST_BLUE}`,
      );
      const v1 = await world.functions.publishVersion(fn, 'initial', codeSha256);
      for (const alias of ['blue', 'green']) await world.functions.ensureAlias(fn, alias, v1.version);
    },
  },
  {
    name: 'refused (digest already live)',
    options: { environments: prod },
    input: (w) => w.apiRequest({ imageDigest: DIGEST_BLUE }),
  },
  {
    // StopExecution and its reconcile can beat a Validate release still in flight: the release must start nothing.
    name: 'reconciled while validating',
    options: { environments: prod },
    input: (w) => w.apiRequest(),
    setup: async (world) => {
      await reconcileStoppedExecution(
        { name: RELEASE, executionArn: 'stopped', status: 'ABORTED', input: world.apiRequest() },
        world.deps,
      );
    },
  },
  {
    // Paused at the second check and never resumed: each held check renews the lock, then the pause limit rolls back.
    name: 'paused past its limit',
    options: { environments: environmentsWith('prod', { ...SHORT_BAKES, maxPauseMinutes: 3 }) },
    input: (w) => w.apiRequest(),
    beforeCheck: async (world, check) => {
      if (check === 1) await pauseRelease({ releaseId: RELEASE, by: 'ops' }, world.deps);
    },
  },
  {
    name: 'duplicate ECR push',
    options: { environment: 'dev' },
    input: () => pushInput(),
    setup: async (_world, run) => {
      await run(pushInput(), 'first-copy');
    },
  },
  {
    // Deploy green's first attempt recorded its version, then moving green was throttled: the retry reads the
    // version back from the record (publishedVersion) instead of publishing again.
    name: 'Deploy green retried after recording its version',
    options: { environments: prod },
    input: (w) => w.apiRequest(),
    seed: async (world) => {
      await world.seed();
      const update = world.functions.updateAlias.bind(world.functions);
      let throttledOnce = false;
      world.functions.updateAlias = async (fn, alias, ...rest) => {
        if (alias === 'green' && !throttledOnce) {
          throttledOnce = true;
          throw throttled();
        }
        return update(fn, alias, ...rest);
      };
    },
  },
  {
    // SNS refusing every alert: each state records the failed alert in the release's history instead.
    name: 'canary released, alerts not delivered',
    options: { environments: prod },
    input: (w) => w.apiRequest(),
    alertsDown: true,
    seed: async (world) => {
      await world.seed();
      world.notifier.notify = async () => {
        throw new Error('SNS unavailable');
      };
    },
  },
];

/**
 * Three fleet members in three waves (m1, then m2, then m3), with the same short bakes; 600 calls a minute per
 * member, so a one-minute canary (10%) sees enough traffic to judge.
 */
const FLEET = ['m1', 'm2', 'm3'] as const;
const fleetWorld = (errorRate?: Record<string, number>) => () =>
  new FleetWorld({ perCheck: 600, ...(errorRate ? { errorRate } : {}) }, FLEET, {
    approvals: 'auto',
    patch: SHORT_BAKES,
  });

/** The same faults over a fleet: every call the fleet's states make, in a member's Map iteration or at fleet level. */
const FLEET_SCENARIOS: readonly Scenario[] = [
  { name: 'fleet released', options: {}, world: fleetWorld(), input: (w) => w.apiRequest() },
  {
    name: 'fleet rolled back (m2 unhealthy)',
    options: {},
    world: fleetWorld({ m2: 0.5 }),
    input: (w) => w.apiRequest(),
  },
  {
    name: 'fleet member failed verification',
    options: { behaviour: { [DIGEST_GREEN]: { healthStatus: 503 } } },
    world: () =>
      new FleetWorld({ perCheck: 600 }, FLEET, {
        approvals: 'auto',
        patch: SHORT_BAKES,
        behaviour: { [DIGEST_GREEN]: { healthStatus: 503 } },
      }),
    input: (w) => w.apiRequest(),
  },
];

interface Cell {
  readonly state: string;
  readonly port: AwsPort;
  readonly method: string;
  readonly mode: Mode;
}

/** Every (Task state, port method) pair FUNCTION_GRANTS names, in its order. */
function grantedCalls(): { state: string; port: AwsPort; method: string }[] {
  return Object.entries(FUNCTION_GRANTS)
    .filter(([fn]) => fn !== RECONCILE)
    .flatMap(([state, grants]) =>
      AWS_PORTS.flatMap((port) =>
        ((grants[port] ?? []) as readonly string[]).map((method) => ({ state, port, method })),
      ),
    );
}

class Fault extends Error {}

/** Wraps one port method with the cell's fault; `fired` counts the calls it intercepted. */
class FaultInjector {
  fired = 0;
  private readonly inFlight: Promise<unknown>[] = [];
  constructor(
    private readonly mode: Mode | 'spy',
    private readonly abort: () => void,
  ) {}

  wrap<T extends object>(port: T, method: string): T {
    return new Proxy(port, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        if (prop !== method) return value.bind(target);
        return (...args: unknown[]) => this.call(() => value.apply(target, args));
      },
    });
  }

  private async call(real: () => Promise<unknown>): Promise<unknown> {
    this.fired++;
    switch (this.mode) {
      case 'spy':
        return real();
      case 'fail-once':
        if (this.fired === 1) throw throttled();
        return real();
      case 'fail-always':
        throw throttled();
      case 'fail-permanently':
        throw Object.assign(new Fault('User is not authorized to perform this action'), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 403 },
        });
      case 'time-out':
        // The Lambda never answers: the state's own timeout ends it.
        return new Promise(() => undefined);
      case 'abort': {
        if (this.fired === 1) this.abort();
        // StopExecution does not stop a Lambda already running: the call goes on after the abort.
        const call = real();
        this.inFlight.push(call.catch(() => undefined));
        return call;
      }
    }
  }

  async settled(): Promise<void> {
    await Promise.all(this.inFlight);
  }
}

interface Outcome {
  readonly cell: Cell;
  readonly scenario: string;
  readonly fired: number;
  readonly status: string;
  readonly violations: string[];
}

const TERMINAL_ALERTS: Record<string, readonly string[]> = {
  released: ['released', 'released-with-warnings', 'reconciled'],
  'rolled-back': ['rolled-back', 'reconciled'],
  failed: ['failed', 'reconciled'],
  aborted: ['reconciled'],
};

/** What must hold after any release, however it ended. */
async function invariants(
  world: ReleaseWorld,
  run: { status: string; liveBefore: unknown },
  notifierFaulted: boolean,
): Promise<string[]> {
  const violations: string[] = [];
  const record = await world.store.getRelease(RELEASE);
  if (world instanceof FleetWorld) violations.push(...(await fleetInvariants(world, record?.status)));
  const live = await world.live();
  if (live?.routing) violations.push(`live still routes ${live.routing.weight} to ${live.routing.version}`);
  const lock = await world.lock();
  if (lock) violations.push(`the lock is still held by ${lock.releaseId}`);
  const alerts = world.notifier.sent.filter((n) => n.releaseId === RELEASE).map((n) => n.outcome);
  // Stopped before Validate release recorded it: the reconcile's closed record stands in for it, and nothing moved.
  const stoppedBeforeValidation = record?.trigger === 'reconcile';
  if (stoppedBeforeValidation) {
    if (record.status === 'running' || !record.reason) violations.push(`the reconcile's record is ${record.status}`);
    if (!alerts.includes('reconciled') && !notifierFaulted)
      violations.push('no reconciled alert for a stopped release');
  }
  if (!record || stoppedBeforeValidation) {
    // Refused at Validate release (or a duplicate delivery) before anything was recorded: nothing moved.
    if (JSON.stringify(live) !== JSON.stringify(run.liveBefore)) {
      violations.push(`live moved from ${JSON.stringify(run.liveBefore)} to ${JSON.stringify(live)} with no record`);
    }
    if (world.functions.versionsOf(world.functionName).find((v) => v.description === RELEASE)) {
      violations.push('a version was published for a release with no record');
    }
    // A duplicate delivery ends as a Succeed no-op and an abort is the operator's own act: neither needs an alert.
    // Anything else that ends before a record exists alerts.
    const alerted = alerts.some((a) => ['refused', 'failed', 'reconciled'].includes(a));
    if (run.status === 'FAILED' && !alerted && !notifierFaulted) {
      violations.push(`a release that ended ${run.status} before it was recorded sent no alert`);
    }
    return violations;
  }
  // The verified versions: green once released; otherwise blue, or for a first release (no blue) nothing or green.
  // A fleet release never touches the environment's own function (its members are checked above).
  const [only, ...others] = record.targets.members;
  const verified =
    others.length > 0 || !only
      ? [(run.liveBefore as { version?: string } | undefined)?.version]
      : record.status === 'released'
        ? [only.greenVersion]
        : only.blueVersion === null
          ? [undefined, only.greenVersion]
          : [only.blueVersion];
  if (!verified.includes(live?.version)) {
    violations.push(`live is on ${live?.version}, expected ${verified.join(' or ')} (${record.status})`);
  }
  if (record.status === 'running') violations.push('the release record is still running');
  if (record.status !== 'released' && !record.reason) violations.push(`the ${record.status} record has no reason`);
  const wanted = TERMINAL_ALERTS[record.status] ?? [];
  const alerted = alerts.some((a) => wanted.includes(a));
  const recordedFailure = record.events.some((e) => e.kind === 'notification-failed');
  if (!alerted && !(notifierFaulted && recordedFailure)) {
    violations.push(
      `no ${wanted.join('/')} alert for a ${record.status} release (sent: ${alerts.join(', ') || 'none'})`,
    );
  }
  return violations;
}

/** Every member on a verified version with no routing: its green once released, else its blue (version 1). */
async function fleetInvariants(world: FleetWorld, status: string | undefined): Promise<string[]> {
  const violations: string[] = [];
  const record = await world.store.getRelease(RELEASE);
  for (const name of world.members) {
    const live = await world.memberLive(name);
    const member = record?.targets.members.find((m) => m.name === name);
    const expected = status === 'released' ? member?.greenVersion : '1';
    if (live?.routing)
      violations.push(`member ${name}'s live still routes ${live.routing.weight} to ${live.routing.version}`);
    if (live?.version !== expected)
      violations.push(`member ${name}'s live is on ${live?.version}, expected ${expected} (${status})`);
  }
  return violations;
}

/** Binds the execution's handlers; may replace one state's handler with one over faulted or spied ports. */
type Bind = (world: ReleaseWorld, handlers: Record<string, TaskHandler>, abort: () => void) => void;

async function runInWorld(
  scenario: Scenario,
  bind: Bind,
): Promise<{ world: ReleaseWorld; status: string; liveBefore: unknown }> {
  const world = scenario.world?.() ?? new ReleaseWorld({ ...scenario.options, approvals: 'auto' });
  await (scenario.seed ? scenario.seed(world) : world.seed());
  const scaled = scaledDefinition();
  const execute = async (
    input: unknown,
    name: string,
    handlers: Record<string, TaskHandler>,
    onStart?: (abort: () => void) => void,
  ) => {
    const running = startExecution({
      definition: scaled,
      handlers,
      input,
      executionName: name,
      waitMs: () => 0,
      retryMs: 0,
    });
    onStart?.(() => running.abort());
    const result = await running.result;
    // What the execution-status-change rule does: reconcile whatever did not succeed, in its own function.
    if (result.status !== 'SUCCEEDED') {
      await reconcileStoppedExecution(
        { name, executionArn: result.executionArn, status: result.status === 'ABORTED' ? 'ABORTED' : 'FAILED', input },
        world.deps,
      );
    }
    return result;
  };
  await scenario.setup?.(world, (input, name) => execute(input, name, world.handlers()));
  const liveBefore = await world.live();
  const handlers = world.handlers();
  let abort: () => void = () => undefined;
  bind(world, handlers, () => abort());
  const check = handlers[STATES.check];
  if (scenario.beforeCheck && check) {
    let checks = 0;
    handlers[STATES.check] = async (input) => {
      await scenario.beforeCheck?.(world, checks++);
      return check(input);
    };
  }
  const result = await execute(scenario.input(world), RELEASE, handlers, (a) => {
    abort = a;
  });
  return { world, status: result.status, liveBefore };
}

/** Replaces `state`'s handler with one built over `deps`. */
function rebind(world: ReleaseWorld, handlers: Record<string, TaskHandler>, state: string, deps: ReleaseDependencies) {
  const replacement = world.handlers(deps)[state];
  if (!replacement) throw new Error(`no handler for ${state}`);
  handlers[state] = replacement;
}

const callKey = (c: { state: string; port: string; method: string }) => `${c.state} → ${c.port}.${c.method}`;

/** For each granted call, the first scenario whose fault-free run makes it. */
async function discover(scenarios: readonly Scenario[]): Promise<Map<string, Scenario>> {
  const calls = grantedCalls();
  const found = new Map<string, Scenario>();
  for (const scenario of scenarios) {
    const pending = calls.filter((c) => !found.has(callKey(c)));
    if (pending.length === 0) break;
    const spies = pending.map((call) => ({ call, spy: new FaultInjector('spy', () => undefined) }));
    await runInWorld(scenario, (world, handlers) => {
      for (const state of new Set(pending.map((c) => c.state))) {
        let deps: ReleaseDependencies = world.deps;
        for (const { call, spy } of spies.filter((s) => s.call.state === state)) {
          deps = { ...deps, [call.port]: spy.wrap(deps[call.port] as object, call.method) };
        }
        rebind(world, handlers, state, deps);
      }
    });
    for (const { call, spy } of spies) if (spy.fired > 0) found.set(callKey(call), scenario);
  }
  return found;
}

async function runCell(cell: Cell, scenario: Scenario): Promise<Outcome> {
  let injector: FaultInjector | undefined;
  const { world, status, liveBefore } = await runInWorld(scenario, (world, handlers, abort) => {
    const fault = new FaultInjector(cell.mode, abort);
    injector = fault;
    rebind(world, handlers, cell.state, {
      ...world.deps,
      [cell.port]: fault.wrap(world.deps[cell.port] as object, cell.method),
    });
  });
  await injector?.settled();
  const violations = await invariants(
    world,
    { status, liveBefore },
    cell.port === 'notifier' || scenario.alertsDown === true,
  );
  return { cell, scenario: scenario.name, fired: injector?.fired ?? 0, status, violations };
}

/** Runs `work` over `items` with at most `limit` at a time. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

describe('the fault matrix: every Task state, every port method it is granted, five faults', () => {
  it('leaves live on a verified version with no routing, no lock, a closed record and an alert, in every cell', async () => {
    const scenarios = await discover(SCENARIOS);
    const calls = grantedCalls();
    const unreached = calls.filter((c) => !scenarios.has(callKey(c))).map(callKey);
    expect(unreached, 'granted calls no scenario makes').toEqual([]);

    const cells: Cell[] = calls.flatMap((call) => MODES.map((mode) => ({ ...call, mode })));
    const outcomes = await pool(cells, 8, (cell) => runCell(cell, scenarios.get(callKey(cell)) as Scenario));
    const notFired = outcomes.filter((o) => o.fired === 0).map((o) => `${callKey(o.cell)} [${o.cell.mode}]`);
    const broken = outcomes.filter((o) => o.violations.length > 0);
    const held =
      outcomes.length - broken.length - outcomes.filter((o) => o.fired === 0 && o.violations.length === 0).length;
    // Straight to the terminal: the figure is the point of this test, and vitest hides console output of passing tests.
    writeSync(1, `fault matrix: cells: ${outcomes.length}, held: ${held}\n`);
    expect(notFired, 'cells whose fault never fired').toEqual([]);
    expect(
      broken.map(
        (o) => `${callKey(o.cell)} [${o.cell.mode}, ${o.scenario}] ended ${o.status}: ${o.violations.join('; ')}`,
      ),
    ).toEqual([]);
    expect(held).toBe(cells.length);
    // A budget for about 300 local executions, not a speed check: about 70 s on an idle 2-core machine, more than
    // twice that under load.
  }, 600_000);

  it('holds over a fleet too: every member back on a verified version, no lock, in every cell a fleet release makes', async () => {
    const scenarios = await discover(FLEET_SCENARIOS);
    const calls = grantedCalls().filter((c) => scenarios.has(callKey(c)));
    // A member's own steps (Deploy green and Verify green run inside the Map for each member) are faulted too.
    for (const state of [STATES.deploy, STATES.verify]) {
      expect(calls.filter((c) => c.state === state && c.port === 'functions').length).toBeGreaterThan(0);
    }
    const cells: Cell[] = calls.flatMap((call) => MODES.map((mode) => ({ ...call, mode })));
    const outcomes = await pool(cells, 8, (cell) => runCell(cell, scenarios.get(callKey(cell)) as Scenario));
    const notFired = outcomes.filter((o) => o.fired === 0).map((o) => `${callKey(o.cell)} [${o.cell.mode}]`);
    const broken = outcomes.filter((o) => o.violations.length > 0);
    writeSync(1, `fault matrix over a fleet: cells: ${outcomes.length}, held: ${outcomes.length - broken.length}\n`);
    expect(notFired, 'cells whose fault never fired').toEqual([]);
    expect(
      broken.map(
        (o) => `${callKey(o.cell)} [${o.cell.mode}, ${o.scenario}] ended ${o.status}: ${o.violations.join('; ')}`,
      ),
    ).toEqual([]);
  }, 600_000);
});
