import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { longestApprovalWindowSeconds } from '../config/environments.ts';
import { RETRYABLE_ERRORS } from '../core/model/errors.ts';
import { type HandlerTask, STATES } from './state-names.ts';

/** Errors a retry can fix: Lambda's own transient faults, throttling, and the handlers' TransientFailure. */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
  ...RETRYABLE_ERRORS,
];

/**
 * Longer than the handlers' own 60 s Lambda timeout (2 minutes for Verify green, 10 for Deploy green): a state
 * never moves on while its Lambda may still be changing an alias.
 */
const TASK_TIMEOUT = Duration.seconds(90);

/** The execution's name (the release id) and ARN, as the handlers that record or unlock a release take them. */
const EXECUTION_REF = { name: sfn.JsonPath.executionName, arn: sfn.JsonPath.executionId };

/** Backoff with full jitter for the transient errors; `attempts` counts the first try. */
function transientRetry(attempts: number): sfn.RetryProps {
  return {
    errors: TRANSIENT_ERRORS,
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: attempts - 1,
    maxDelay: Duration.seconds(30),
    jitterStrategy: sfn.JitterType.FULL,
  };
}

export interface ReleaseWorkflowProps {
  /** The Lambda function behind each handler-backed Task state. */
  readonly handlers: Record<HandlerTask, lambda.IFunction>;
  /**
   * The release stage (image scan by digest, Terraform apply) as a Task state named "Scan & provision".
   * It runs only for releases whose environment has `scanAndProvision` on.
   * @default - no scan step: the workflow deploys straight after validation
   */
  readonly scanAndProvision?: sfn.TaskStateBase;
  /**
   * How long "Await approval" waits before the release fails safe (live untouched).
   * @default - the longest approval window of the configured environments
   */
  readonly approvalTimeout?: Duration;
  /**
   * Attempts for transient failures of each Task (the first try included).
   * @default 5
   */
  readonly maxAttempts?: number;
}

interface TaskSpec {
  readonly task: HandlerTask;
  readonly comment: string;
  /** @default - the whole state */
  readonly payload?: sfn.TaskInput;
  readonly resultPath: string;
  readonly resultSelector?: Record<string, unknown>;
  readonly timeout: Duration;
  readonly attempts: number;
  /** Keeps only this part of the state's output (a Map iteration's result). */
  readonly outputPath?: string;
}

/**
 * The release workflow: one chain, JSONPath only (the local engine ignores JSONata), synthesized to ASL for
 * AWS Step Functions and run unchanged by the local runtime. State names read as a release's story in the console.
 */
export class ReleaseWorkflow extends Construct {
  readonly startState: sfn.IChainable;

  constructor(scope: Construct, id: string, props: ReleaseWorkflowProps) {
    super(scope, id);
    const attempts = props.maxAttempts ?? 5;
    const invoke = (spec: TaskSpec) => {
      const name = spec.task;
      const state = new tasks.LambdaInvoke(this, name, {
        stateName: name,
        comment: spec.comment,
        lambdaFunction: props.handlers[spec.task],
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        ...(spec.payload ? { payload: spec.payload } : {}),
        resultPath: spec.resultPath,
        ...(spec.outputPath ? { outputPath: spec.outputPath } : {}),
        ...(spec.resultSelector ? { resultSelector: spec.resultSelector } : {}),
        taskTimeout: sfn.Timeout.duration(spec.timeout),
      });
      state.addRetry(transientRetry(spec.attempts));
      return state;
    };

    const receive = new sfn.Pass(this, STATES.receive, {
      stateName: STATES.receive,
      comment: 'Wraps whatever started the execution, so even malformed input reaches a precise refusal.',
      parameters: { 'request.$': '$' },
    });
    const validate = invoke({
      task: STATES.validate,
      comment: 'Checks the request, reads blue from live, takes the environment lock and records the release.',
      payload: sfn.TaskInput.fromObject({
        request: sfn.JsonPath.objectAt('$.request'),
        execution: EXECUTION_REF,
      }),
      resultPath: '$.release',
      timeout: TASK_TIMEOUT,
      attempts,
    });
    // Deploy green and Verify green run once per target, in a Map bounded by deployConcurrency: a single function is
    // one target, a fleet one a member. Each iteration gets the release and its own target, and hands back only its
    // green version, so the Map's result stays small at 100 targets. An iteration that fails fails the Map, and the
    // release fails before any traffic moved.
    const deploy = invoke({
      task: STATES.deploy,
      comment: "Updates the target's function to the image digest, publishes a version and points green at it.",
      resultPath: '$.green',
      timeout: Duration.minutes(15),
      attempts,
    });
    const verify = invoke({
      task: STATES.verify,
      comment: 'Health check and smoke requests against the green version, each with its evidence.',
      resultPath: '$.verification',
      outputPath: '$.green',
      timeout: Duration.minutes(3),
      attempts,
    });
    deploy.next(verify);
    const targets = new sfn.Map(this, STATES.deployTargets, {
      stateName: STATES.deployTargets,
      comment: 'Deploys and verifies every target, at most deployConcurrency at once; live is not touched.',
      itemsPath: '$.release.targets',
      maxConcurrencyPath: '$.release.deployConcurrency',
      itemSelector: {
        'release.$': '$.release',
        'target.$': '$$.Map.Item.Value',
      },
      resultPath: '$.greens',
    });
    targets.itemProcessor(deploy);
    const shift = invoke({
      task: STATES.shift,
      comment: "Moves live to the plan's next traffic step.",
      resultPath: '$.traffic',
      timeout: TASK_TIMEOUT,
      attempts,
    });
    const bake = new sfn.Wait(this, STATES.bake, {
      stateName: STATES.bake,
      comment: 'Lets traffic reach the new version before the next health check.',
      time: sfn.WaitTime.secondsPath('$.traffic.waitSeconds'),
    });
    const check = invoke({
      task: STATES.check,
      comment: "Judges green's CloudWatch metrics and the watched alarms; the output carries the evidence.",
      resultPath: '$.traffic',
      timeout: TASK_TIMEOUT,
      attempts,
    });
    const finalize = invoke({
      task: STATES.finalize,
      comment: 'Keeps the previous version on blue, records the release, frees the lock and notifies.',
      resultPath: '$.outcome',
      timeout: TASK_TIMEOUT,
      attempts,
    });
    const rollBack = invoke({
      task: STATES.rollBack,
      comment: 'Puts live back on blue with no routing, records the evidence, frees the lock and notifies.',
      resultPath: '$.rollback',
      timeout: TASK_TIMEOUT,
      attempts: attempts + 3,
    });
    const approval = new tasks.LambdaInvoke(this, STATES.approval, {
      stateName: STATES.approval,
      comment: 'Verified and waiting: the release API answers the task token; the timeout fails safe, live untouched.',
      lambdaFunction: props.handlers[STATES.approval],
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      retryOnServiceExceptions: false,
      payload: sfn.TaskInput.fromObject({
        taskToken: sfn.JsonPath.taskToken,
        release: sfn.JsonPath.objectAt('$.release'),
        greens: sfn.JsonPath.objectAt('$.greens'),
      }),
      resultPath: '$.approval',
      // A fixed timeout: TimeoutSecondsPath would resolve against the state input on AWS but against the
      // effective input on the local engine, and the two runs must behave alike.
      taskTimeout: sfn.Timeout.duration(props.approvalTimeout ?? Duration.seconds(longestApprovalWindowSeconds())),
    });
    approval.addRetry(transientRetry(attempts));
    const recordFailure = invoke({
      task: STATES.recordFailure,
      comment: 'Traffic never moved: records why, frees the lock this release holds and notifies.',
      payload: sfn.TaskInput.fromObject({
        state: sfn.JsonPath.objectAt('$'),
        execution: EXECUTION_REF,
      }),
      resultPath: '$.failure',
      timeout: TASK_TIMEOUT,
      attempts,
    });

    const released = new sfn.Succeed(this, STATES.released, { stateName: STATES.released });
    const rolledBack = new sfn.Fail(this, STATES.rolledBack, {
      stateName: STATES.rolledBack,
      error: 'ReleaseRolledBack',
      causePath: '$.rollback.reason',
    });
    const failed = new sfn.Fail(this, STATES.failed, {
      stateName: STATES.failed,
      error: 'ReleaseFailed',
      causePath: '$.failure.reason',
    });
    const rollbackFailed = new sfn.Fail(this, STATES.rollbackFailed, {
      stateName: STATES.rollbackFailed,
      error: 'RollbackFailed',
      cause: 'Roll back did not complete; the reconcile handler restores live to the verified version.',
    });

    const duplicate = new sfn.Succeed(this, STATES.duplicate, {
      stateName: STATES.duplicate,
      comment: 'Another copy of this ECR event already started the release: nothing to do, nothing to alert.',
    });
    validate.addCatch(duplicate, { errors: ['DuplicateDelivery'], resultPath: '$.duplicate' });

    const beforeTraffic = { resultPath: '$.error' };
    recordFailure.next(failed);
    for (const state of [validate, targets]) state.addCatch(recordFailure, beforeTraffic);
    for (const state of [shift, check, finalize]) state.addCatch(rollBack, beforeTraffic);
    rollBack.addCatch(rollbackFailed, { resultPath: '$.rollbackError' });
    rollBack.next(rolledBack);

    const healthy = new sfn.Choice(this, STATES.healthy, {
      stateName: STATES.healthy,
      comment: 'Routes on the decision Check health made, with its evidence in $.traffic.lastCheck.',
    })
      .when(sfn.Condition.stringEquals('$.traffic.next', 'bake'), bake)
      .when(sfn.Condition.stringEquals('$.traffic.next', 'shift'), shift)
      .when(sfn.Condition.stringEquals('$.traffic.next', 'finalize'), finalize)
      .otherwise(rollBack);
    shift.next(bake);
    bake.next(check);
    check.next(healthy);
    finalize.next(released);

    approval.addCatch(recordFailure, beforeTraffic);
    approval.next(shift);
    const approvalNeeded = new sfn.Choice(this, STATES.approvalNeeded, { stateName: STATES.approvalNeeded })
      .when(sfn.Condition.booleanEquals('$.release.approvalRequired', true), approval)
      .otherwise(shift);
    targets.next(approvalNeeded);

    let toDeploy: sfn.IChainable;
    props.scanAndProvision?.addCatch(recordFailure, beforeTraffic);
    if (props.scanAndProvision) {
      props.scanAndProvision.next(targets);
      toDeploy = new sfn.Choice(this, STATES.scanEnabled, { stateName: STATES.scanEnabled })
        .when(sfn.Condition.booleanEquals('$.release.scanAndProvision', true), props.scanAndProvision)
        .otherwise(targets);
    } else {
      toDeploy = targets;
    }
    // Outside its environment's windows in `wait` mode, Validate release takes no lock and records nothing: the
    // release waits here until the window opens, then Validate release asks again (a freeze or hold placed
    // meanwhile still refuses it). Wait's TimestampPath: https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html
    const awaitWindow = new sfn.Wait(this, STATES.awaitWindow, {
      stateName: STATES.awaitWindow,
      comment: "Outside the environment's release windows: waits for the next opening, holding nothing.",
      time: sfn.WaitTime.timestampPath('$.release.awaitingWindow.opensAt'),
    });
    awaitWindow.next(validate);
    const windowOpen = new sfn.Choice(this, STATES.windowOpen, {
      stateName: STATES.windowOpen,
      comment: 'Validate release says whether the release waits for its window ($.release.awaitingWindow).',
    })
      .when(sfn.Condition.isPresent('$.release.awaitingWindow'), awaitWindow)
      .otherwise(toDeploy);
    validate.next(windowOpen);
    receive.next(validate);
    this.startState = receive;
  }
}
