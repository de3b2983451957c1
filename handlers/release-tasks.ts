import * as z from 'zod';
import { requestApproval } from '../core/approval.ts';
import { checkHealth } from '../core/check-health.ts';
import { finalize, releaseFailed, rollBack } from '../core/conclude-release.ts';
import { deployGreen } from '../core/deploy-green.ts';
import { checkFleetHealth, finalizeFleet, rollBackFleet, shiftFleet } from '../core/fleet-traffic.ts';
import { reconcileStoppedExecution } from '../core/reconcile.ts';
import { ReleaseContextSchema, WorkflowStateSchema } from '../core/release-context.ts';
import { shiftTraffic } from '../core/shift-traffic.ts';
import { TrafficStateSchema } from '../core/traffic.ts';
import { validateRelease } from '../core/validate-release.ts';
import { verifyGreen } from '../core/verify-green.ts';
import { type HandlerTask, STATES } from '../state-machine/state-names.ts';
import type { ReleaseDependencies } from './release-dependencies.ts';
import { type TaskHandler, taskHandler } from './task-handler.ts';

const CaughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
const ExecutionSchema = z.object({ name: z.string(), arn: z.string() });

const ValidateInput = z.object({ request: z.unknown(), execution: ExecutionSchema });
const GreenState = WorkflowStateSchema.extend({
  green: z.object({ version: z.string(), codeSha256: z.string(), reused: z.boolean() }),
});
const TrafficLoopState = GreenState.extend({ traffic: TrafficStateSchema });
const ApprovalInput = z.object({
  taskToken: z.string().min(1),
  release: ReleaseContextSchema,
  green: z.object({ version: z.string() }),
});
const RollBackInput = WorkflowStateSchema.extend({ traffic: TrafficStateSchema.optional() });
const FailureInput = z.object({
  state: z.object({
    request: z.unknown().optional(),
    release: ReleaseContextSchema.optional(),
    error: CaughtErrorSchema,
  }),
  execution: ExecutionSchema,
});

function requestedEnvironment(request: unknown): string | undefined {
  const env = request && typeof request === 'object' ? Reflect.get(request, 'environment') : undefined;
  return typeof env === 'string' ? env : undefined;
}

/**
 * One handler per Task state, each parsing its slice of the workflow state and calling one core function.
 * The Lambda entries in this folder and the local runtime bind these same functions.
 */
export function releaseTaskHandlers(deps: ReleaseDependencies): Record<HandlerTask, TaskHandler> {
  const opts = deps.isTransient ? { isTransient: deps.isTransient } : {};
  return {
    [STATES.validate]: taskHandler(
      STATES.validate,
      ValidateInput,
      ({ request, execution }) => validateRelease(request, execution, deps),
      opts,
    ),
    [STATES.deploy]: taskHandler(STATES.deploy, WorkflowStateSchema, (s) => deployGreen(s.release, deps), opts),
    [STATES.verify]: taskHandler(STATES.verify, GreenState, (s) => verifyGreen(s.release, s.green.version, deps), opts),
    [STATES.approval]: taskHandler(
      STATES.approval,
      ApprovalInput,
      ({ taskToken, release, green }) => requestApproval(release, green.version, taskToken, deps),
      opts,
    ),
    [STATES.shift]: taskHandler(
      STATES.shift,
      GreenState.extend({ traffic: TrafficStateSchema.optional() }),
      (s) =>
        s.release.fleet
          ? shiftFleet(s.release, s.traffic?.nextStepIndex ?? 0, s.traffic, deps)
          : shiftTraffic(s.release, s.green.version, s.traffic?.nextStepIndex ?? 0, s.traffic, deps),
      opts,
    ),
    [STATES.check]: taskHandler(
      STATES.check,
      TrafficLoopState,
      (s) =>
        s.release.fleet
          ? checkFleetHealth(s.release, s.traffic, deps)
          : checkHealth(s.release, s.green.version, s.traffic, deps),
      opts,
    ),
    [STATES.rollBack]: taskHandler(
      STATES.rollBack,
      RollBackInput,
      (s) =>
        s.release.fleet
          ? rollBackFleet(s.release, s.traffic, s.error, deps)
          : rollBack(s.release, s.green?.version, s.traffic, s.error, deps),
      opts,
    ),
    [STATES.finalize]: taskHandler(
      STATES.finalize,
      TrafficLoopState,
      (s) =>
        s.release.fleet
          ? finalizeFleet(s.release, s.traffic, deps)
          : finalize(s.release, s.green.version, s.traffic, deps),
      opts,
    ),
    [STATES.recordFailure]: taskHandler(
      STATES.recordFailure,
      FailureInput,
      ({ state, execution }) =>
        releaseFailed(
          execution.name,
          state.release?.environment ?? requestedEnvironment(state.request),
          state.release,
          state.error,
          deps,
        ),
      opts,
    ),
  };
}

const StoppedExecutionEventSchema = z.object({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    executionArn: z.string(),
    name: z.string(),
    status: z.enum(['ABORTED', 'TIMED_OUT', 'FAILED']),
    input: z.string().nullable().optional(),
  }),
});

function parseInput(input: string | null | undefined): unknown {
  if (!input) return undefined;
  try {
    const parsed: unknown = JSON.parse(input);
    return parsed;
  } catch {
    return undefined;
  }
}

/** The reconcile handler: EventBridge's execution status change (ABORTED, TIMED_OUT, FAILED) in, actions out. */
export function reconcileHandler(deps: ReleaseDependencies): TaskHandler {
  return taskHandler(
    'Reconcile',
    StoppedExecutionEventSchema,
    ({ detail }) =>
      reconcileStoppedExecution(
        {
          name: detail.name,
          executionArn: detail.executionArn,
          status: detail.status,
          input: parseInput(detail.input),
        },
        deps,
      ),
    deps.isTransient ? { isTransient: deps.isTransient } : {},
  );
}
