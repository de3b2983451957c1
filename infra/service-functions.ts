import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENTRY_FILES, FUNCTION_GRANTS, RECONCILE, type ServiceFunction } from '../contract/service-functions.ts';
import { HANDLER_TASKS, type HandlerTask, STATES } from '../state-machine/state-names.ts';
import type { GrantResources } from './handler-permissions.ts';
import { SwitchyardFunction } from './switchyard-function.ts';

/** Construct ids, which also name the functions' log groups and roles in the template. */
export const FUNCTION_IDS: Readonly<Record<ServiceFunction, string>> = {
  [STATES.validate]: 'ValidateRelease',
  [STATES.deploy]: 'DeployGreen',
  [STATES.verify]: 'VerifyGreen',
  [STATES.approval]: 'AwaitApproval',
  [STATES.shift]: 'ShiftTraffic',
  [STATES.check]: 'CheckHealth',
  [STATES.rollBack]: 'RollBack',
  [STATES.finalize]: 'Finalize',
  [STATES.recordFailure]: 'RecordFailure',
  [RECONCILE]: 'Reconcile',
};

/** Deploy green waits for Lambda's code update (up to five minutes) inside one invocation. */
const TIMEOUTS: Partial<Record<ServiceFunction, Duration>> = {
  [STATES.deploy]: Duration.minutes(10),
  [STATES.verify]: Duration.minutes(2),
};

export interface ServiceFunctionsProps extends GrantResources {
  /** Powertools log level of the service's handlers. */
  readonly logLevel: string;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The service's Lambda functions: one per handler-backed Task state, plus the reconcile handler. Each role gets
 * exactly the actions its `FUNCTION_GRANTS` need (infra/handler-permissions.ts), on the narrowest resources the
 * service supports, and each function the environment variables those grants read.
 */
export class ServiceFunctions extends Construct {
  readonly functions: Readonly<Record<ServiceFunction, SwitchyardFunction>>;

  constructor(scope: Construct, id: string, props: ServiceFunctionsProps) {
    super(scope, id);
    const envs = Object.values(props.environments);
    if (envs.length === 0) throw new Error('ServiceFunctions needs at least one environment');
    const functions = {} as Record<ServiceFunction, SwitchyardFunction>;
    for (const fn of [...HANDLER_TASKS, RECONCILE] as const) {
      const created = new SwitchyardFunction(this, FUNCTION_IDS[fn], {
        entry: ENTRY_FILES[fn],
        description: fn === RECONCILE ? 'Reconciles stopped release executions' : `Release step: ${fn}`,
        serviceName: 'switchyard',
        logLevel: props.logLevel,
        logRetention: props.logRetention,
        access: { grants: FUNCTION_GRANTS[fn], resources: props },
        ...(TIMEOUTS[fn] ? { timeout: TIMEOUTS[fn] } : {}),
      });
      functions[fn] = created;
    }
    this.functions = functions;
  }

  /** The Lambda functions behind the workflow's Task states, as `ReleaseWorkflow` takes them. */
  get taskFunctions(): Record<HandlerTask, lambda.IFunction> {
    const handlers = {} as Record<HandlerTask, lambda.IFunction>;
    for (const task of HANDLER_TASKS) handlers[task] = this.functions[task].function;
    return handlers;
  }
}
