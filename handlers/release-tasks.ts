import * as z from 'zod';
import type { RECONCILE } from '../contract/service-functions.ts';
import { requestApproval } from '../core/approval.ts';
import { checkHealth } from '../core/check-health.ts';
import { finalize, releaseFailed, rollBack } from '../core/conclude-release.ts';
import { deployGreen } from '../core/deploy-green.ts';
import { reconcileStoppedExecution } from '../core/reconcile.ts';
import {
  GreenSchema,
  ReleaseContextSchema,
  TargetContextSchema,
  WorkflowStateSchema,
} from '../core/release-context.ts';
import { shiftTraffic } from '../core/shift-traffic.ts';
import { TrafficStateSchema } from '../core/traffic.ts';
import { validateRelease } from '../core/validate-release.ts';
import { verifyGreen } from '../core/verify-green.ts';
import { type HandlerTask, STATES } from '../state-machine/state-names.ts';
import type { ReleaseDependencies } from './release-dependencies.ts';
import { type TaskHandler, taskHandler } from './task-handler.ts';

declare const taskOf: unique symbol;

/**
 * Builds one function's handler on its dependencies; `F` names the function, so an entry cannot bind another's task.
 * Each Lambda entry binds only its own (wiring/aws.ts `lambdaEntry`), so its bundle keeps only that task's code,
 * and the task's input schema is built at its first invocation (docs/speed.md, "Handler bundles").
 */
export type TaskBuilder<F extends string> = ((deps: ReleaseDependencies) => TaskHandler) & { readonly [taskOf]?: F };

const optionsOf = (deps: ReleaseDependencies) => (deps.isTransient ? { isTransient: deps.isTransient } : {});

const caughtErrorSchema = () => z.object({ Error: z.string(), Cause: z.string().optional() });
const executionSchema = () => z.object({ name: z.string(), arn: z.string() });
/** One target's Map iteration: the release and its target, and its green once deployed. */
const targetState = () => z.object({ release: ReleaseContextSchema, target: TargetContextSchema });
const greensState = () => WorkflowStateSchema.extend({ greens: z.array(GreenSchema) });
const trafficLoopState = () => greensState().extend({ traffic: TrafficStateSchema });

function requestedEnvironment(request: unknown): string | undefined {
  const env = request && typeof request === 'object' ? Reflect.get(request, 'environment') : undefined;
  return typeof env === 'string' ? env : undefined;
}

// One Task state each: parse its slice of the workflow state, call one core function.
export const validateTask: TaskBuilder<typeof STATES.validate> = (deps) =>
  taskHandler(
    STATES.validate,
    z.object({ request: z.unknown(), execution: executionSchema() }),
    ({ request, execution }) => validateRelease(request, execution, deps),
    optionsOf(deps),
  );

export const deployTask: TaskBuilder<typeof STATES.deploy> = (deps) =>
  taskHandler(STATES.deploy, targetState(), (s) => deployGreen(s.release, s.target, deps), optionsOf(deps));

export const verifyTask: TaskBuilder<typeof STATES.verify> = (deps) =>
  taskHandler(
    STATES.verify,
    targetState().extend({ green: GreenSchema }),
    (s) => verifyGreen(s.release, s.target, s.green.version, deps),
    optionsOf(deps),
  );

export const approvalTask: TaskBuilder<typeof STATES.approval> = (deps) =>
  taskHandler(
    STATES.approval,
    z.object({ taskToken: z.string().min(1), release: ReleaseContextSchema, greens: z.array(GreenSchema) }),
    ({ taskToken, release, greens }) => requestApproval(release, greens, taskToken, deps),
    optionsOf(deps),
  );

export const shiftTask: TaskBuilder<typeof STATES.shift> = (deps) =>
  taskHandler(
    STATES.shift,
    greensState().extend({ traffic: TrafficStateSchema.optional() }),
    (s) => shiftTraffic(s.release, s.greens, s.traffic?.nextStepIndex ?? 0, s.traffic, deps),
    optionsOf(deps),
  );

export const checkTask: TaskBuilder<typeof STATES.check> = (deps) =>
  taskHandler(
    STATES.check,
    trafficLoopState(),
    (s) => checkHealth(s.release, s.greens, s.traffic, deps),
    optionsOf(deps),
  );

export const rollBackTask: TaskBuilder<typeof STATES.rollBack> = (deps) =>
  taskHandler(
    STATES.rollBack,
    WorkflowStateSchema.extend({ traffic: TrafficStateSchema.optional() }),
    (s) => rollBack(s.release, s.greens, s.traffic, s.error, deps),
    optionsOf(deps),
  );

export const finalizeTask: TaskBuilder<typeof STATES.finalize> = (deps) =>
  taskHandler(
    STATES.finalize,
    trafficLoopState(),
    (s) => finalize(s.release, s.greens, s.traffic, deps),
    optionsOf(deps),
  );

export const recordFailureTask: TaskBuilder<typeof STATES.recordFailure> = (deps) =>
  taskHandler(
    STATES.recordFailure,
    z.object({
      state: z.object({
        request: z.unknown().optional(),
        release: ReleaseContextSchema.optional(),
        error: caughtErrorSchema(),
      }),
      execution: executionSchema(),
    }),
    ({ state, execution }) =>
      releaseFailed(
        execution.name,
        state.release?.environment ?? requestedEnvironment(state.request),
        state.release,
        state.error,
        deps,
      ),
    optionsOf(deps),
  );

/**
 * One handler per Task state, each parsing its slice of the workflow state and calling one core function.
 * The local runtime binds these; each Lambda entry binds its own task alone.
 */
export function releaseTaskHandlers(deps: ReleaseDependencies): Record<HandlerTask, TaskHandler> {
  return {
    [STATES.validate]: validateTask(deps),
    [STATES.deploy]: deployTask(deps),
    [STATES.verify]: verifyTask(deps),
    [STATES.approval]: approvalTask(deps),
    [STATES.shift]: shiftTask(deps),
    [STATES.check]: checkTask(deps),
    [STATES.rollBack]: rollBackTask(deps),
    [STATES.finalize]: finalizeTask(deps),
    [STATES.recordFailure]: recordFailureTask(deps),
  };
}

const stoppedExecutionEventSchema = () =>
  z.object({
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
    stoppedExecutionEventSchema(),
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

export const reconcileTask: TaskBuilder<typeof RECONCILE> = (deps) => reconcileHandler(deps);
