import type { ReleaseDependencies } from '../handlers/release-dependencies.ts';
import { releaseTaskHandlers } from '../handlers/release-tasks.ts';
import type { TaskHandler } from '../handlers/task-handler.ts';
import { STATES } from '../state-machine/state-names.ts';
import type { LocalApprovalGate } from './approval-gate.ts';
import { localReleaseStage, type ReleaseStageRequest } from './release-stage.ts';

/**
 * Every Task state of the service definition bound for the local engine: the release handlers the Lambda entries
 * use, "Await approval" held by the local approval gate, and "Scan & provision" by the CodeBuild stand-in.
 */
export function localTaskHandlers(
  deps: ReleaseDependencies,
  local: { approvals: LocalApprovalGate; provisionRequests: Map<string, ReleaseStageRequest> },
): Record<string, TaskHandler> {
  const handlers: Record<string, TaskHandler> = { ...releaseTaskHandlers(deps) };
  const requestApproval = handlers[STATES.approval];
  if (requestApproval) handlers[STATES.approval] = local.approvals.wrap(requestApproval);
  handlers[STATES.scan] = localReleaseStage(local.provisionRequests);
  return handlers;
}
