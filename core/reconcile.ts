import { lockKey } from '../config/environments.ts';
import type { EnvironmentName, Environments } from '../config/schema.ts';
import { FLEET_CALL_CONCURRENCY, forEachBounded } from './fleet-release.ts';
import type {
  Clock,
  FleetMemberChange,
  FleetMemberPhase,
  FunctionVersions,
  Notifier,
  ReleaseRecord,
  ReleaseStore,
} from './ports.ts';
import { notifyBestEffort } from './release-guard.ts';

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

/** The phases in which a fleet member has (or had, until restored) live traffic on green. */
const TRAFFIC_PHASES: ReadonlySet<FleetMemberPhase> = new Set(['shifting', 'baking', 'live']);

function environmentOf(input: unknown, envs: Environments): EnvironmentName | undefined {
  const env = input && typeof input === 'object' ? Reflect.get(input, 'environment') : undefined;
  return typeof env === 'string' && env in envs ? (env as EnvironmentName) : undefined;
}

/**
 * Every fleet member this release moved, back on its blue (bounded parallel alias updates), and the record saying
 * so: each member that had traffic on green is `rolled-back` at 0%, whether this moved it or found it back already.
 */
async function restoreFleet(record: ReleaseRecord, deps: ReconcileDeps): Promise<string[]> {
  const env = deps.environments[record.environment as EnvironmentName];
  const members = record.fleet?.members ?? [];
  const restored = await forEachBounded(members, FLEET_CALL_CONCURRENCY, async (member) => {
    const aliases = env?.fleet?.members.find((m) => m.name === member.name)?.aliases ?? env?.aliases;
    if (!aliases || !member.greenVersion || !member.blueVersion) return undefined;
    const alias = await deps.functions.getAlias(member.functionName, aliases.live);
    const onGreen =
      alias !== undefined && (alias.version === member.greenVersion || alias.routing?.version === member.greenVersion);
    if (!onGreen) return undefined;
    await deps.functions.updateAlias(member.functionName, aliases.live, member.blueVersion, undefined, alias);
    return `${member.name} → ${member.blueVersion}`;
  });
  const names = restored.filter((r): r is string => r !== undefined);
  const changes: Record<string, FleetMemberChange> = {};
  for (const member of members) {
    if (member.percent > 0 || TRAFFIC_PHASES.has(member.phase))
      changes[member.name] = { phase: 'rolled-back', percent: 0 };
  }
  if (Object.keys(changes).length > 0) await deps.store.updateFleet(record.releaseId, { members: changes });
  return names.length > 0
    ? [`restored fleet members to their verified versions: ${names.join(', ')}`]
    : ['no fleet member was moved by this release'];
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
        functionName: env.functionName,
        imageUri: '',
        digest: typeof digest === 'string' ? digest : '',
        blueVersion: null,
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

      if (record.fleet) {
        actions.push(...(await restoreFleet(record, deps)));
      }
      const alias = record.fleet ? undefined : await deps.functions.getAlias(env.functionName, env.aliases.live);
      const green = record.greenVersion;
      // Only undo what this release did: live on green, or routing part of live's traffic to green.
      const onGreen =
        alias !== undefined && green !== undefined && (alias.version === green || alias.routing?.version === green);
      if (onGreen && record.blueVersion) {
        await deps.functions.updateAlias(env.functionName, env.aliases.live, record.blueVersion, undefined, alias);
        const was = `${alias?.version}${alias?.routing ? ` + ${alias.routing.weight} on ${alias.routing.version}` : ''}`;
        actions.push(`restored ${env.aliases.live} to verified version ${record.blueVersion} (was ${was})`);
        live = { version: record.blueVersion, routing: false };
      } else if (!record.fleet) {
        live = alias ? { version: alias.version, routing: alias.routing !== undefined } : null;
        actions.push(
          onGreen
            ? `${env.aliases.live} is on ${green} and there is no earlier version to restore`
            : `${env.aliases.live} was not moved by this release`,
        );
      }
      await deps.store.updateRelease(
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
