import { lockKey } from '../config/environments.ts';
import type { EnvironmentConfig, EnvironmentName, Environments } from '../config/schema.ts';
import type {
  Clock,
  FunctionVersions,
  Notifier,
  ReleaseRecord,
  ReleaseStore,
  TargetChange,
  TargetPhase,
} from './ports.ts';
import { notifyBestEffort } from './release-guard.ts';
import { environmentTargets, pendingTargets } from './target-set.ts';
import { describeLive, forEachBounded, restoreBlue, TARGET_CALL_CONCURRENCY } from './traffic-router.ts';

export interface ReconcileDeps {
  readonly environments: Environments;
  readonly functions: FunctionVersions;
  readonly store: ReleaseStore;
  readonly notifier: Notifier;
  readonly clock: Clock;
}

/** What EventBridge reports when an execution stops (the fields reconciling needs). */
export interface StoppedExecution {
  readonly name: string;
  readonly executionArn: string;
  readonly status: 'ABORTED' | 'TIMED_OUT' | 'FAILED';
  /** The execution's input, for releases that stopped before they had a record. */
  readonly input?: unknown;
}

export interface ReconcileResult {
  readonly releaseId: string;
  readonly actions: string[];
  readonly live: { version: string | null; routing: boolean } | null;
}

/** The phases in which a target has (or had, until restored) live traffic on green. */
const TRAFFIC_PHASES: ReadonlySet<TargetPhase> = new Set(['shifting', 'baking', 'live']);

function environmentOf(input: unknown, envs: Environments): EnvironmentName | undefined {
  const env = input && typeof input === 'object' ? Reflect.get(input, 'environment') : undefined;
  return typeof env === 'string' && env in envs ? (env as EnvironmentName) : undefined;
}

/**
 * Every target this release moved, back on its blue through the traffic router (bounded), and the record saying so:
 * each target that had traffic on green is `rolled-back` at 0%, whether this moved it or found it back already.
 */
async function restoreTargets(
  record: ReleaseRecord,
  env: EnvironmentConfig,
  deps: ReconcileDeps,
): Promise<{ actions: string[]; live: ReconcileResult['live'] }> {
  const configured = new Map(environmentTargets(env).map((t) => [t.name, t.aliases]));
  const members = record.targets.members;
  const outcomes = await forEachBounded(members, TARGET_CALL_CONCURRENCY, async (member) => {
    const aliases = configured.get(member.name) ?? env.aliases;
    return { member, aliases, ...(await restoreBlue(deps.functions, { ...member, aliases }, member.greenVersion)) };
  });
  const changes: Record<string, TargetChange> = {};
  for (const member of members) {
    if (member.percent > 0 || TRAFFIC_PHASES.has(member.phase))
      changes[member.name] = { phase: 'rolled-back', percent: 0 };
  }
  if (Object.keys(changes).length > 0) await deps.store.update(record.releaseId, { targets: changes });
  const [single] = outcomes;
  if (outcomes.length > 1 || !single) {
    const names = outcomes.flatMap((o) => (o.restored ? [`${o.member.name} → ${o.restored}`] : []));
    return {
      actions: [
        names.length > 0
          ? `restored fleet members to their verified versions: ${names.join(', ')}`
          : 'no fleet member was moved by this release',
      ],
      live: null,
    };
  }
  const alias = single.aliases.live;
  if (single.restored) {
    return {
      actions: [`restored ${alias} to verified version ${single.restored} (was ${describeLive(single.live)})`],
      live: { version: single.restored, routing: false },
    };
  }
  return {
    actions: [
      single.onGreen
        ? `${alias} is on ${single.member.greenVersion} and there is no earlier version to restore`
        : `${alias} was not moved by this release`,
    ],
    live: single.live ? { version: single.live.version, routing: single.live.routing !== undefined } : null,
  };
}

/**
 * Makes a stopped execution leave nothing behind: `live` on a verified version with no routing, the release's
 * record closed, and no lock it held. Safe to run more than once and for executions that already cleaned up.
 */
export async function reconcileStoppedExecution(
  execution: StoppedExecution,
  deps: ReconcileDeps,
): Promise<ReconcileResult> {
  const releaseId = execution.name;
  const actions: string[] = [];
  let record = await deps.store.getRelease(releaseId);
  const envName =
    (record?.environment as EnvironmentName | undefined) ?? environmentOf(execution.input, deps.environments);
  const env = envName ? deps.environments[envName] : undefined;
  if (!env) {
    return { releaseId, actions: ['nothing to do: the execution never named a known environment'], live: null };
  }

  let live: ReconcileResult['live'] = null;
  try {
    if (!record && execution.status !== 'FAILED') {
      // Stopped before Validate release recorded it, which may still be running (StopExecution does not stop a
      // Lambda): a closed record now makes its later write a no-op, and Validate release then gives its lock back.
      const at = deps.clock.now().toISOString();
      const closedAs = execution.status === 'ABORTED' ? 'aborted' : 'failed';
      const reason = `execution ${execution.status.toLowerCase().replace('_', ' ')} before Validate release recorded it`;
      const digest =
        execution.input && typeof execution.input === 'object'
          ? Reflect.get(execution.input, 'imageDigest')
          : undefined;
      await deps.store.createRelease({
        releaseId,
        executionArn: execution.executionArn,
        environment: env.name,
        imageUri: '',
        digest: typeof digest === 'string' ? digest : '',
        targets: pendingTargets(
          environmentTargets(env).map((t) => ({ ...t, blueVersion: null })),
          env.fleet?.waves.length ?? 1,
        ),
        status: closedAs,
        reason,
        startedAt: at,
        endedAt: at,
        trigger: 'reconcile',
        events: [{ at, kind: 'reconciled', summary: reason, evidence: { status: execution.status } }],
      });
      // Validate release may have recorded it between the read above and this write: then that record is closed below.
      record = await deps.store.getRelease(releaseId);
      if (record?.trigger === 'reconcile') {
        actions.push(`recorded the release as ${closedAs}, so a Validate release still in flight starts nothing`);
      }
    }
    const closedAs = execution.status === 'ABORTED' ? 'aborted' : 'failed';
    const reason = `execution ${execution.status.toLowerCase().replace('_', ' ')} before the release concluded`;
    // Close the record before looking at live, and only while it still runs: a step still in flight checks it after
    // moving an alias and takes its move back, so whichever of the two runs last leaves live on the verified version;
    // and a Finalize that ended it as released first keeps live on green (this then closes and restores nothing).
    const closed =
      record?.status === 'running' &&
      (await deps.store.closeRelease(releaseId, { status: closedAs, reason, endedAt: deps.clock.now().toISOString() }))
        .closed;
    // A reconcile of this same stop closed the record and was cut off before its 'reconciled' event (the process
    // was killed, the Lambda timed out): this one finishes what it began.
    const unfinished =
      record !== undefined &&
      record.status === closedAs &&
      record.reason === reason &&
      !record.events.some((e) => e.kind === 'reconciled');
    if (record && (closed || unfinished)) {
      actions.push(
        closed ? `closed the release record as ${closedAs}` : `finished reconciling the ${closedAs} release`,
      );

      const restored = await restoreTargets(record, env, deps);
      actions.push(...restored.actions);
      live = restored.live;
      await deps.store.update(
        releaseId,
        {},
        {
          at: deps.clock.now().toISOString(),
          kind: 'reconciled',
          summary: actions.join('; '),
          evidence: { status: execution.status },
        },
      );
    }
  } finally {
    // Whatever failed above, no lock and no approval token outlive the execution.
    if (await deps.store.releaseLock(lockKey(env), releaseId)) actions.push('freed the environment lock');
    await deps.store.takeApprovalRequest(releaseId);
  }
  // An alert whenever reconciling had to act: a release whose own ending did not finish may not have sent one.
  if (actions.length > 0) {
    await notifyBestEffort(deps, {
      subject: `Switchyard: ${env.name} release ${releaseId} ${execution.status.toLowerCase()}; reconciled`,
      releaseId,
      environment: env.name,
      outcome: 'reconciled',
      detail: { status: execution.status, actions },
    });
  }
  return { releaseId, actions: actions.length > 0 ? actions : ['nothing to do: the release had cleaned up'], live };
}
