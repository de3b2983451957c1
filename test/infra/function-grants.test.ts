import { describe, expect, it } from 'vitest';
import { FUNCTION_GRANTS, RECONCILE, type ServiceFunction } from '../../contract/service-functions.ts';
import { singleTarget } from '../../core/ports.ts';
import { reconcileHandler } from '../../handlers/release-tasks.ts';
import type { TaskHandler } from '../../handlers/task-handler.ts';
import { HANDLER_TASKS, type HandlerTask, STATES } from '../../state-machine/state-names.ts';
import { MissingEnvironmentVariable, PortNotGranted, restrictToGrants, serviceHandler } from '../../wiring/aws.ts';
import { DIGEST_GREEN, ReleaseWorld } from '../workflow/harness.ts';

/**
 * The world's handlers, each limited to its function's grants exactly as its Lambda entry limits it; Task states no
 * service function backs (Scan & provision is CodeBuild) keep the world's stand-in.
 */
function grantedHandlers(world: ReleaseWorld): Record<string, TaskHandler> {
  const handlers: Record<string, TaskHandler> = { ...world.handlers() };
  for (const task of HANDLER_TASKS as readonly HandlerTask[]) {
    const own = world.handlers(restrictToGrants(world.deps, FUNCTION_GRANTS[task], task))[task];
    if (own) handlers[task] = own;
  }
  return handlers;
}

function expectNoDeniedCall(result: unknown): void {
  expect(JSON.stringify(result)).not.toContain('PortNotGranted');
}

/**
 * FUNCTION_GRANTS decides each function's IAM policy. These releases run the real handlers, each restricted to its
 * grants, so a port method a handler calls without a grant fails the release here instead of in AWS.
 */
describe('the function grants cover what the handlers call', () => {
  it('on a release that goes through approval, the canary and finalize', async () => {
    const world = await new ReleaseWorld({ environment: 'prod' }).seed();
    const result = await world.run(world.apiRequest(), { handlers: grantedHandlers(world) });
    expectNoDeniedCall(result);
    expect(result.status).toBe('SUCCEEDED');
  });

  it('on a release rolled back for errors', async () => {
    const world = await new ReleaseWorld({
      environment: 'prod',
      traffic: () => ({ invocations: 100, errors: 50 }),
    }).seed();
    const result = await world.run(world.apiRequest(), { handlers: grantedHandlers(world) });
    expectNoDeniedCall(result);
    expect(result).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
  });

  it('on a release that fails verification before traffic moves', async () => {
    const world = await new ReleaseWorld({
      environment: 'staging',
      behaviour: { [DIGEST_GREEN]: { healthStatus: 500 } },
    }).seed();
    const result = await world.run(world.apiRequest(), { handlers: grantedHandlers(world) });
    expectNoDeniedCall(result);
    expect(result).toMatchObject({ status: 'FAILED', error: 'ReleaseFailed' });
  });

  it('when reconcile restores live after an aborted release', async () => {
    const world = await new ReleaseWorld({ environment: 'staging' }).seed();
    const fn = world.functionName;
    const now = world.clock.now().toISOString();
    const { codeSha256 } = await world.functions.updateCodeAndWait(fn, `repo@${DIGEST_GREEN}`);
    const green = await world.functions.publishVersion(fn, 'release-9', codeSha256);
    await world.functions.updateAlias(fn, 'live', '1', { version: green.version, weight: 0.1 });
    await world.store.acquireLock(
      `${fn}#staging`,
      { releaseId: 'release-9', executionArn: 'arn', acquiredAt: now, expiresAt: now },
      world.clock.now(),
    );
    await world.store.createRelease({
      releaseId: 'release-9',
      executionArn: 'arn',
      environment: 'staging',
      targets: singleTarget({ functionName: fn, blueVersion: '1', greenVersion: green.version }),
      imageUri: `repo@${DIGEST_GREEN}`,
      digest: DIGEST_GREEN,
      status: 'running',
      startedAt: now,
      trigger: 'api',
      events: [],
    });
    const reconcile = reconcileHandler(restrictToGrants(world.deps, FUNCTION_GRANTS[RECONCILE], RECONCILE));
    const result = await reconcile({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { executionArn: 'arn', name: 'release-9', status: 'ABORTED', input: null },
    });
    expect(JSON.stringify(result)).toContain('restored live');
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
  });

  it('refuses a call outside the grants, naming the function and the method', async () => {
    const world = new ReleaseWorld();
    const limited = restrictToGrants(world.deps, FUNCTION_GRANTS[STATES.verify], STATES.verify);
    expect(() => limited.functions.updateAlias('f', 'live', '1')).toThrow(PortNotGranted);
    expect(() =>
      limited.notifier.notify({ subject: '', releaseId: '', environment: '', outcome: '', detail: {} }),
    ).toThrow(/Verify green is not granted notifier\.notify/);
  });

  it('lets only Verify green ask for a smoke-test signer', async () => {
    const world = new ReleaseWorld();
    const verify = restrictToGrants(world.deps, FUNCTION_GRANTS[STATES.verify], STATES.verify);
    expect(await verify.smokeSigners.signerFor('prod')).toBeDefined();
    for (const fn of Object.keys(FUNCTION_GRANTS).filter((f) => f !== STATES.verify) as ServiceFunction[]) {
      const limited = restrictToGrants(world.deps, FUNCTION_GRANTS[fn], fn);
      expect(() => limited.smokeSigners.signerFor('prod'), fn).toThrow(PortNotGranted);
    }
  });
});

describe('the Lambda entries', () => {
  it('fail with the name of a missing variable, and read only the ones their grants need', () => {
    expect(() => serviceHandler(STATES.deploy, { RELEASE_TABLE_NAME: 'releases' })).not.toThrow();
    expect(() => serviceHandler(STATES.recordFailure, { RELEASE_TABLE_NAME: 'releases' })).toThrow(
      MissingEnvironmentVariable,
    );
    expect(() => serviceHandler(STATES.recordFailure, { RELEASE_TABLE_NAME: 'releases' })).toThrow(/ALERTS_TOPIC_ARN/);
    expect(() => serviceHandler(STATES.validate, { RELEASE_TABLE_NAME: 't' })).toThrow(/REGISTRY_HOST/);
    // The client-keys secrets are named from the config: Verify green needs no variable for them.
    expect(() => serviceHandler(STATES.verify, { RELEASE_TABLE_NAME: 'releases' })).not.toThrow();
  });

  it('each export a handler bound to their function', async () => {
    for (const file of [
      'validate-release',
      'deploy-green',
      'verify-green',
      'shift-traffic',
      'check-health',
      'roll-back',
      'finalize',
      'record-failure',
      'reconcile',
    ]) {
      const entry = (await import(`../../handlers/lambda/${file}.ts`)) as { handler?: unknown };
      expect(typeof entry.handler, file).toBe('function');
    }
  });
});
