import { describe, expect, it } from 'vitest';
import { releaseApiHandler } from '../../api/release-api.ts';
import type { ReleasePolicy } from '../../config/release-windows.ts';
import type { EnvironmentName } from '../../config/schema.ts';
import { rollbackEnvironment } from '../../core/operations/environment-rollback.ts';
import type { ReleaseEvent } from '../../core/ports/ports.ts';
import type { ReleaseOperations } from '../../core/ports/release-operations.ts';
import type { TaskHandler } from '../../handlers/task-handler.ts';
import type { ExecutionResult } from '../../local/engine.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { environmentsWith } from '../support/environments.ts';
import { DIGEST_GREEN, ReleaseWorld } from './harness.ts';

/** The harness clock starts on Thursday 2026-11-26 10:00 UTC (11:00 in Berlin). */
const AFTERNOON_WINDOW: ReleasePolicy = {
  timeZone: 'Europe/Berlin',
  // 14:00–15:00 Berlin (13:00–14:00 UTC in November).
  windows: [{ name: 'afternoon', opens: '0 14 * * *', durationMinutes: 60 }],
  outsideWindow: { push: 'wait', api: 'refuse' },
};
const FROZEN: ReleasePolicy = {
  timeZone: 'Europe/Berlin',
  freezes: [
    {
      name: 'black-friday',
      from: '2026-11-26T00:00:00+01:00',
      until: '2026-11-30T00:00:00+01:00',
      reason: 'Black Friday trading',
    },
  ],
};
const CALLER = 'arn:aws:sts::123456789012:assumed-role/ChangeManager/alice';

function worldWith(environment: EnvironmentName, policy: ReleasePolicy | undefined): ReleaseWorld {
  return new ReleaseWorld({
    environment,
    environments: environmentsWith(environment, {
      policy,
      bake: { checkIntervalSeconds: 60, highResolution: undefined },
    }),
  });
}

/** What an image push hands the state machine (the EventBridge rule's input transformer). */
function push(eventId: string) {
  return {
    trigger: 'ecr-push',
    environment: 'dev',
    eventId,
    eventTime: '2026-11-26T10:00:00Z',
    repositoryName: 'switchyard-api',
    imageDigest: DIGEST_GREEN,
    imageTag: null,
    actionType: 'PUSH',
    result: 'SUCCESS',
  };
}

const entered = (result: ExecutionResult) =>
  result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state ?? '');

/**
 * The release API over the world: the real handler, starting the synthesized state machine on the local engine with
 * the world's handlers. Each started execution is kept to be awaited.
 */
function apiOver(world: ReleaseWorld) {
  const executions = new Map<string, Promise<ExecutionResult>>();
  const ops: ReleaseOperations = {
    region: 'us-east-1',
    environments: world.environments,
    store: world.store,
    registry: world.registry,
    functions: world.functions,
    clock: world.clock,
    tasks: { succeed: async () => undefined, fail: async () => undefined },
    executionArnFor: (id) => `arn:aws:states:us-east-1:123456789012:execution:release:${id}`,
    startExecution: async (id, input) => {
      executions.set(id, world.run(input, { name: id }));
      return { executionArn: `arn:aws:states:us-east-1:123456789012:execution:release:${id}` };
    },
    describeExecution: async () => undefined,
    stopExecution: async () => undefined,
    rollbackEnvironment: (environment, by, reason) => rollbackEnvironment(environment, by, reason, world.deps),
    startEnvironmentRollback: async () => {
      throw new Error('no fleet here');
    },
  };
  const handler = releaseApiHandler(ops);
  const call = async (method: string, path: string, body: unknown = {}) => {
    const reply = await handler({
      httpMethod: method,
      path,
      body: JSON.stringify(body),
      requestContext: { identity: { userArn: CALLER } },
    });
    return { status: reply.statusCode, body: JSON.parse(reply.body) as Record<string, unknown> };
  };
  const finished = async (id: unknown) => {
    const execution = executions.get(String(id));
    if (!execution) throw new Error(`no execution ${String(id)}`);
    return execution;
  };
  return { call, finished };
}

describe('release windows, freezes, abandoned images and holds on the synthesized state machine', () => {
  it('a push outside the window waits in "Await release window", holding nothing, and starts at the opening', async () => {
    const world = await worldWith('dev', AFTERNOON_WINDOW).seed();
    const waits: { at: string; opensAt: string; locked: boolean }[] = [];
    const handlers: Record<string, TaskHandler> = world.handlers();
    const validate = handlers[STATES.validate];
    if (!validate) throw new Error('no Validate release handler');
    // The Wait state is the virtual clock's to pass: the world's clock moves to the time the state waits until.
    handlers[STATES.validate] = async (input) => {
      const context = (await validate(input)) as { awaitingWindow?: { opensAt: string } };
      if (context.awaitingWindow) {
        const { opensAt } = context.awaitingWindow;
        waits.push({ at: world.clock.now().toISOString(), opensAt, locked: (await world.lock()) !== undefined });
        world.clock.advance((Date.parse(opensAt) - world.clock.now().getTime()) / 1000);
      }
      return context;
    };

    const result = await world.run(push('evt-1'), { name: 'push-1', handlers });

    expect(result.status).toBe('SUCCEEDED');
    expect(waits).toEqual([{ at: '2026-11-26T10:00:00.000Z', opensAt: '2026-11-26T13:00:00.000Z', locked: false }]);
    expect(entered(result).slice(0, 5)).toEqual([
      STATES.receive,
      STATES.validate,
      STATES.windowOpen,
      STATES.awaitWindow,
      STATES.validate,
    ]);
    expect(entered(result).at(-1)).toBe(STATES.released);
    const record = await world.store.getRelease('push-1');
    expect(record?.startedAt).toBe('2026-11-26T13:00:00.000Z');
    expect(record?.status).toBe('released');
  });

  it('an API start during a freeze gets 409 naming the freeze; the start route cannot carry an override', async () => {
    const world = await worldWith('prod', FROZEN).seed();
    const api = apiOver(world);
    const refused = await api.call('POST', '/environments/prod/releases', { imageDigest: DIGEST_GREEN });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'ReleaseRefused', policy: 'freeze', freeze: 'black-friday' });
    expect(refused.body.message).toContain('frozen by "black-friday" until 2026-11-30T00:00:00+01:00: Black Friday');
    // Without the override route's permission there is no other way past it: the start body has no override.
    const smuggled = await api.call('POST', '/environments/prod/releases', {
      imageDigest: DIGEST_GREEN,
      override: { reason: 'just this once' },
    });
    expect(smuggled.status).toBe(400);
    expect(await world.lock()).toBeUndefined();
  });

  it('with the override route the release starts and its history names who overrode which freeze, and why', async () => {
    const world = await worldWith('prod', FROZEN).seed();
    const api = apiOver(world);
    const noReason = await api.call('POST', '/environments/prod/overrides', { imageDigest: DIGEST_GREEN });
    expect(noReason.status).toBe(400);
    const started = await api.call('POST', '/environments/prod/overrides', {
      imageDigest: DIGEST_GREEN,
      reason: 'payment outage fix, approved by the CAB',
    });
    expect(started.status).toBe(202);
    const result = await api.finished(started.body.releaseId);
    expect(entered(result).at(-1)).toBe(STATES.released);
    const record = await world.store.getRelease(String(started.body.releaseId));
    const override = record?.events.find(
      (e): e is Extract<ReleaseEvent, { kind: 'policy-overridden' }> => e.kind === 'policy-overridden',
    );
    expect(override?.evidence).toMatchObject({
      by: CALLER,
      reason: 'payment outage fix, approved by the CAB',
      overrode: 'freeze',
      name: 'black-friday',
    });
    expect(override?.summary).toContain(CALLER);
  });

  it('a rollback during a freeze proceeds: the environment rollback through the API', async () => {
    const world = await worldWith('prod', FROZEN).seed();
    const api = apiOver(world);
    const started = await api.call('POST', '/environments/prod/overrides', {
      imageDigest: DIGEST_GREEN,
      reason: 'fix',
    });
    expect(entered(await api.finished(started.body.releaseId)).at(-1)).toBe(STATES.released);
    expect((await world.live())?.version).toBe('2');
    const rolledBack = await api.call('POST', '/environments/prod/rollback', { reason: 'errors after the fix' });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.body).toMatchObject({ from: '2', to: '1' });
    expect((await world.live())?.version).toBe('1');
  });

  it('a release baking when a freeze begins finishes its bake, or rolls back when unhealthy: safety is never blocked', async () => {
    // The freeze begins five minutes after the release starts, in its canary bake.
    const later: ReleasePolicy = {
      timeZone: 'UTC',
      freezes: [{ name: 'late', from: '2026-11-26T10:05:00Z', until: '2026-11-27T00:00:00Z', reason: 'incident' }],
    };
    const healthy = await worldWith('prod', later).seed();
    const released = await healthy.run(healthy.apiRequest(), { name: 'baking-1' });
    expect(healthy.clock.now().getTime()).toBeGreaterThan(Date.parse('2026-11-26T10:05:00Z'));
    expect(entered(released).at(-1)).toBe(STATES.released);

    const failing = new ReleaseWorld({
      environment: 'prod',
      environments: environmentsWith('prod', {
        policy: later,
        bake: { checkIntervalSeconds: 60, highResolution: undefined },
      }),
      traffic: (check) => ({ invocations: 200, errors: check >= 6 ? 100 : 0 }),
    });
    await failing.seed();
    const rolledBack = await failing.run(failing.apiRequest(), { name: 'baking-2' });
    expect(entered(rolledBack)).toContain(STATES.rollBack);
    expect(entered(rolledBack).at(-1)).toBe(STATES.rolledBack);
    expect((await failing.live())?.version).toBe('1');
    const record = await failing.store.getRelease('baking-2');
    const rollback = record?.events.find((e) => e.kind === 'rolled-back');
    expect(Date.parse(rollback?.at ?? '')).toBeGreaterThan(Date.parse('2026-11-26T10:05:00Z'));
  });

  it('an abandoned digest is refused from a push, the API and a promotion alike, and can be restored', async () => {
    const world = await worldWith('dev', undefined).seed();
    const api = apiOver(world);
    // A released dev release of the digest, the source of the promotion below.
    expect(entered(await world.run(push('evt-1'), { name: 'push-1' })).at(-1)).toBe(STATES.released);
    const abandoned = await api.call('POST', `/images/${DIGEST_GREEN}/abandon`, { reason: 'CVE-2026-0001 in libssl' });
    expect([abandoned.status, abandoned.body.abandoned]).toEqual([200, true]);

    const pushed = await world.run(push('evt-2'), { name: 'push-2' });
    expect(entered(pushed).at(-1)).toBe(STATES.failed);
    expect(String(pushed.cause)).toContain('is abandoned');

    const started = await api.call('POST', '/environments/dev/releases', { imageDigest: DIGEST_GREEN });
    expect([started.status, started.body.policy]).toEqual([409, 'abandoned']);
    expect(started.body.message).toContain('CVE-2026-0001 in libssl');

    const promoted = await api.call('POST', '/environments/staging/promotions/push-1');
    expect([promoted.status, promoted.body.policy]).toEqual([409, 'abandoned']);

    const restored = await api.call('POST', `/images/${DIGEST_GREEN}/restore`, { reason: 'false positive' });
    expect(restored.body.history).toMatchObject([
      { action: 'abandoned', by: CALLER, reason: 'CVE-2026-0001 in libssl' },
      { action: 'restored', by: CALLER, reason: 'false positive' },
    ]);
    // Restored, the push meets the ordinary checks again: the digest is already live in dev.
    const after = await world.run(push('evt-3'), { name: 'push-3' });
    expect(String(after.cause)).not.toContain('abandoned');
    expect(String(after.cause)).toContain('already live in dev');
  });

  it("a push after an operator's environment rollback is held, and starts again once the hold is cleared", async () => {
    const world = await worldWith('dev', undefined).seed();
    const api = apiOver(world);
    expect(entered(await world.run(push('evt-4'), { name: 'push-4' })).at(-1)).toBe(STATES.released);
    const rolledBack = await api.call('POST', '/environments/dev/rollback', { reason: '5xx after deploy' });
    expect(rolledBack.body.hold).toMatchObject({ active: true });

    const held = await world.run(push('evt-5'), { name: 'push-5' });
    expect(entered(held).at(-1)).toBe(STATES.failed);
    expect(String(held.cause)).toContain('dev is held');
    expect(String(held.cause)).toContain('5xx after deploy');
    const status = await api.call('GET', '/environments');
    const dev = (status.body.environments as { name: string; policy: { hold: unknown } }[]).find(
      (e) => e.name === 'dev',
    );
    expect(dev?.policy.hold).toMatchObject({ action: 'held', by: CALLER });

    // An API release passes the hold only with the flag, and the pass is recorded.
    const refused = await api.call('POST', '/environments/dev/releases', { imageDigest: DIGEST_GREEN });
    expect([refused.status, refused.body.policy]).toEqual([409, 'hold']);

    const cleared = await api.call('POST', '/environments/dev/clear-hold', { reason: 'fixed forward' });
    expect(cleared.status).toBe(200);
    const again = await world.run(push('evt-6'), { name: 'push-6' });
    expect(entered(again).at(-1)).toBe(STATES.released);
  });

  it('an API release passes a hold only with passHold, recorded with who and why', async () => {
    const world = await worldWith('dev', undefined).seed();
    const api = apiOver(world);
    expect(entered(await world.run(push('evt-7'), { name: 'push-7' })).at(-1)).toBe(STATES.released);
    await api.call('POST', '/environments/dev/rollback', { reason: 'bad config' });
    const started = await api.call('POST', '/environments/dev/releases', {
      imageDigest: DIGEST_GREEN,
      passHold: true,
      reason: 'the config is fixed in this build',
    });
    expect(started.status).toBe(202);
    expect(entered(await api.finished(started.body.releaseId)).at(-1)).toBe(STATES.released);
    const record = await world.store.getRelease(String(started.body.releaseId));
    expect(record?.events.find((e) => e.kind === 'policy-overridden')?.evidence).toMatchObject({
      by: CALLER,
      overrode: 'hold',
      reason: 'the config is fixed in this build',
    });
  });
});
