import type { InsightStore } from '../core/insight/insight-store.ts';
import type * as ports from '../core/ports/ports.ts';
import { type HandlerTask, STATES } from '../state-machine/state-names.ts';

/**
 * The deploy/run contract between the CDK stack (infra/) and the code it deploys (wiring/, entries/): which
 * functions exist, which entry file each runs, which port methods each may call and which environment variables it
 * reads. A leaf: it imports only the ports' types and the state names, so both sides can depend on it.
 */

/** The ports an AWS adapter backs; each one needs its own IAM actions (infra/handler-permissions.ts). */
export const AWS_PORTS = [
  'functions',
  'metrics',
  'alarms',
  'store',
  'notifier',
  'registry',
  'smokeSigners',
  'insight',
] as const;
export type AwsPort = (typeof AWS_PORTS)[number];

/** The methods of each port, as the core logic calls them. */
export interface PortMethods {
  readonly functions: keyof ports.FunctionVersions;
  readonly metrics: keyof ports.VersionMetrics;
  readonly alarms: keyof ports.Alarms;
  readonly store: keyof ports.ReleaseStore;
  readonly notifier: keyof ports.Notifier;
  readonly registry: keyof ports.ImageRegistry;
  readonly smokeSigners: keyof ports.SmokeSigners;
  readonly insight: keyof InsightStore;
}

/** Which port methods a function may call: the one place its IAM policy and its adapters are derived from. */
export type PortGrants = { readonly [P in AwsPort]?: readonly PortMethods[P][] };

/** The Lambda functions of the service: one per handler-backed Task state, plus the reconcile handler. */
export const RECONCILE = 'Reconcile' as const;
export type ServiceFunction = HandlerTask | typeof RECONCILE;

/**
 * What each function's core logic calls (core/steps/validate-release.ts, deploy-green.ts, …). A call outside its grant
 * fails with `PortNotGranted` (wiring/aws.ts), before AWS would refuse it; test/infra proves the grants cover the
 * workflow.
 */
const GRANTS = {
  [STATES.validate]: {
    registry: ['digestExists', 'sourceCommit'],
    store: [
      'recordDelivery',
      'getRelease',
      'update',
      'getLock',
      'acquireLock',
      'releaseLock',
      'createRelease',
      'listReleases',
      // The release policy: an abandoned image, the environment's hold (core/policy/release-gate.ts).
      'getPolicyEntry',
    ],
    functions: ['getAlias', 'versionImageDigest'],
    alarms: ['describe'],
    // The release's diff, blue against green, computed once as it starts (docs/insight.md).
    insight: ['getChangeSet', 'changeSetOfCommit', 'getReleaseChanges', 'putReleaseChanges'],
  },
  [STATES.deploy]: {
    functions: ['versionImageDigest', 'publishedVersion', 'updateCodeAndWait', 'publishVersion', 'updateAlias'],
    // getRelease: a retry reads the green version an earlier attempt recorded.
    store: ['getRelease', 'update'],
  },
  [STATES.verify]: {
    functions: ['invoke'],
    store: ['update'],
    smokeSigners: ['signerFor'],
  },
  // getReleaseChanges: the approval and rollback notifications carry the release's change summary.
  [STATES.approval]: {
    store: ['saveApprovalRequest', 'update'],
    notifier: ['notify'],
    insight: ['getReleaseChanges'],
  },
  [STATES.shift]: {
    functions: ['getAlias', 'updateAlias', 'ensureAlias'],
    store: ['getRelease', 'update'],
  },
  [STATES.check]: {
    metrics: ['sampleAll'],
    alarms: ['describe'],
    // renewLock: a paused bake keeps its environment lock (core/operations/pause.ts).
    store: ['getRelease', 'update', 'renewLock'],
    notifier: ['notify'],
  },
  [STATES.rollBack]: {
    functions: ['getAlias', 'updateAlias'],
    store: ['getRelease', 'update', 'releaseLock'],
    notifier: ['notify'],
    insight: ['getReleaseChanges'],
  },
  [STATES.finalize]: {
    functions: ['ensureAlias'],
    // closeRelease: the record ends as released only while it still runs (a stop's reconcile may end it first).
    // update: the targets live, and a failed alert recorded in the history (core/steps/release-guard.ts notifyBestEffort).
    store: ['closeRelease', 'update', 'releaseLock'],
    notifier: ['notify'],
  },
  [STATES.recordFailure]: {
    store: ['getRelease', 'update', 'releaseLock', 'takeApprovalRequest'],
    notifier: ['notify'],
  },
  [RECONCILE]: {
    functions: ['getAlias', 'updateAlias'],
    store: ['getRelease', 'createRelease', 'closeRelease', 'update', 'releaseLock', 'takeApprovalRequest'],
    notifier: ['notify'],
  },
} as const satisfies Readonly<Record<ServiceFunction, PortGrants>>;
export const FUNCTION_GRANTS: Readonly<Record<ServiceFunction, PortGrants>> = GRANTS;

/** The ports a service function is granted: the adapters its entry must bring (wiring/aws.ts checks it). */
export type GrantedPorts<F extends ServiceFunction> = keyof (typeof GRANTS)[F] & AwsPort;

/**
 * What the release API function's operations call: the lock check and history reads, approvals, fast-forward and
 * abort events, tag resolution, and the instant environment rollback (aliases, the rollback record, the alert).
 * Its Step Functions actions (start, describe, history, stop, task answers) are granted on the state machine by
 * infra/release-api.ts.
 */
const API_GRANTS = {
  store: [
    'getLock',
    'acquireLock',
    'releaseLock',
    'getRelease',
    'createRelease',
    'update',
    'listReleases',
    'takeApprovalRequest',
    'saveApprovalRequest',
    // The release policy: checked at a start, changed by abandon/restore, a rollback's hold and clear-hold, listed by
    // GET /environments.
    'getPolicyEntry',
    'putPolicyEntry',
    'listPolicyEntries',
  ],
  registry: ['resolveTag', 'digestExists', 'sourceCommit'],
  functions: ['getAlias', 'updateAlias', 'versionImageDigest'],
  notifier: ['notify'],
  // GET /releases/{releaseId}/changes and GET /insights read the kept diffs.
  insight: ['getReleaseChanges'],
} as const satisfies PortGrants;
export const RELEASE_API_GRANTS: PortGrants = API_GRANTS;

/**
 * The release API function invokes itself asynchronously to run a fleet's environment rollback in the background
 * (wiring/aws.ts): granted on that one function by infra/release-api.ts, as a permission in the function's own
 * resource-based policy (an identity policy naming the function would make the role depend on the function it runs).
 */
export const RELEASE_API_SELF_INVOKE_ACTION = 'lambda:InvokeFunction';

/** The ports the release API function is granted. */
export type ReleaseApiPorts = keyof typeof API_GRANTS;

/** Environment variables the deployed code reads; the CDK stack sets exactly the ones a function needs. */
export const ENV_VARS = {
  tableName: 'RELEASE_TABLE_NAME',
  topicArn: 'ALERTS_TOPIC_ARN',
  registryHost: 'REGISTRY_HOST',
  /** The release API's state machine, besides the variables its port grants need. */
  stateMachineArn: 'STATE_MACHINE_ARN',
  /** The state bucket the build stage records change sets in (docs/insight.md). */
  changeSetsBucket: 'CHANGE_SETS_BUCKET',
} as const;

/** The variables a function with these grants reads. */
export function requiredEnvVars(grants: PortGrants): string[] {
  const vars: string[] = [];
  if (grants.store) vars.push(ENV_VARS.tableName);
  if (grants.notifier) vars.push(ENV_VARS.topicArn);
  if (grants.registry) vars.push(ENV_VARS.registryHost);
  if (grants.insight) {
    if (!grants.store) vars.push(ENV_VARS.tableName);
    if (grants.insight.some((m) => m === 'getChangeSet' || m === 'changeSetOfCommit')) {
      vars.push(ENV_VARS.changeSetsBucket);
    }
  }
  return vars;
}

/** Each service function's entry file (one thin file per function in entries/). */
export const ENTRY_FILES: Readonly<Record<ServiceFunction, string>> = {
  [STATES.validate]: 'entries/validate-release.ts',
  [STATES.deploy]: 'entries/deploy-green.ts',
  [STATES.verify]: 'entries/verify-green.ts',
  [STATES.approval]: 'entries/await-approval.ts',
  [STATES.shift]: 'entries/shift-traffic.ts',
  [STATES.check]: 'entries/check-health.ts',
  [STATES.rollBack]: 'entries/roll-back.ts',
  [STATES.finalize]: 'entries/finalize.ts',
  [STATES.recordFailure]: 'entries/record-failure.ts',
  [RECONCILE]: 'entries/reconcile.ts',
};

/** The release API function's entry file. */
export const RELEASE_API_ENTRY = 'entries/release-api.ts';
