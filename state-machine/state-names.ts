/** State names, written for a person reading the Step Functions console. Handlers bind to Task states by name. */
export const STATES = {
  receive: 'Receive request',
  validate: 'Validate release',
  windowOpen: 'Window open?',
  awaitWindow: 'Await release window',
  scanEnabled: 'Scan enabled?',
  scan: 'Scan & provision',
  deploy: 'Deploy green',
  verify: 'Verify green',
  approvalNeeded: 'Approval needed?',
  approval: 'Await approval',
  shift: 'Shift traffic',
  bake: 'Bake',
  check: 'Check health',
  healthy: 'Healthy?',
  rollBack: 'Roll back',
  finalize: 'Finalize',
  recordFailure: 'Record failure',
  released: 'Released',
  rolledBack: 'Rolled back',
  failed: 'Release failed',
  rollbackFailed: 'Rollback failed',
  duplicate: 'Duplicate delivery',
  deployTargets: 'Deploy & verify',
} as const;

/** The Task states backed by this project's Lambda handlers. */
export const HANDLER_TASKS = [
  STATES.validate,
  STATES.deploy,
  STATES.verify,
  STATES.approval,
  STATES.shift,
  STATES.check,
  STATES.rollBack,
  STATES.finalize,
  STATES.recordFailure,
] as const;
export type HandlerTask = (typeof HANDLER_TASKS)[number];
