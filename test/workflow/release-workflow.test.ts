import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvokeTimedOut } from '../../adapters/aws/lambda-function-versions.ts';
import { StaticSmokeSigners } from '../../adapters/memory/static-smoke-signers.ts';
import { requestFastForward } from '../../core/fast-forward.ts';
import { ecrEventToRequest } from '../../core/release-request.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { environmentsWith, ONE_MINUTE_BAKE } from '../support/environments.ts';
import { DIGEST_BLUE, DIGEST_GREEN, failFirst, REGISTRY_HOST, ReleaseWorld, throttled } from './harness.ts';

const ecrSample = JSON.parse(readFileSync(new URL('../fixtures/ecr-image-push.json', import.meta.url), 'utf8'));

const entered = (result: { events: { type: string; state?: string }[] }) =>
  result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);

describe('release workflow on the synthesized state machine', () => {
  it('releases all at once: live moves to the new version, blue keeps the old one, the lock is freed', async () => {
    const world = await new ReleaseWorld().seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));

    expect(result.status).toBe('SUCCEEDED');
    expect(entered(result).at(-1)).toBe(STATES.released);
    expect(await world.live()).toEqual({ name: 'live', version: '2' });
    expect(await world.alias('blue')).toEqual({ name: 'blue', version: '1' });
    expect(await world.alias('green')).toEqual({ name: 'green', version: '2' });
    expect(await world.lock()).toBeUndefined();
    const record = await world.store.getRelease('release-1');
    expect(record).toMatchObject({ status: 'released', digest: DIGEST_GREEN });
    expect(record?.targets.members).toMatchObject([
      { blueVersion: '1', greenVersion: '2', phase: 'live', percent: 100 },
    ]);
    expect(world.notifier.sent.map((n) => n.outcome)).toEqual(['approval-requested', 'released']);
    expect(result.output).toMatchObject({ outcome: { outcome: 'released', live: { version: '2' } } });
    // Ten minutes of bake at one check a minute, then two more until the last minute's data is complete
    // (prod's metric delay is 120 s).
    expect(world.checkedAt).toEqual(Array(12).fill(100));
  });

  it('asks the release stage (Scan & provision) to scan and provision by digest for the environment', async () => {
    const world = await new ReleaseWorld().seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));
    expect(entered(result).indexOf(STATES.scan)).toBeLessThan(entered(result).indexOf(STATES.deploy));
    expect(world.provisionRequests.get('release-1')?.environment).toEqual({
      IMAGE_DIGEST: DIGEST_GREEN,
      IMAGE_URI: `${REGISTRY_HOST}/switchyard-api@${DIGEST_GREEN}`,
      SWITCHYARD_ENVIRONMENT: 'prod',
      RELEASE_ID: 'release-1',
      SWITCHYARD_STAGE: 'release',
    });
  });

  it('fails before deploying when the release stage fails (a scan gate), with live untouched', async () => {
    const world = await new ReleaseWorld().seed();
    const handlers = world.handlers();
    handlers[STATES.scan] = async () => {
      throw Object.assign(new Error('image scan found 2 CRITICAL vulnerabilities'), { name: 'CodeBuild.BuildFailed' });
    };
    const result = await world.run(world.apiRequest(), { handlers });
    expect(result.error).toBe('ReleaseFailed');
    expect(result.cause).toContain('2 CRITICAL vulnerabilities');
    expect(entered(result)).not.toContain(STATES.deploy);
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
  });

  it('runs a canary: live routes 10% to green, bakes, then moves to 100% and bakes again', async () => {
    const world = await new ReleaseWorld().seed();
    const result = await world.run(world.apiRequest());

    expect(result.status).toBe('SUCCEEDED');
    expect(await world.shifts()).toEqual([10, 100]);
    expect(world.checkedAt).toEqual([...Array(7).fill(10), ...Array(12).fill(100)]);
    const shiftOutputs = result.events
      .filter((e) => e.type === 'StateExited' && e.state === STATES.shift)
      .map((e) => (e.output as { traffic: { percent: number } }).traffic.percent);
    expect(shiftOutputs).toEqual([10, 100]);
    expect(await world.live()).toEqual({ name: 'live', version: '2' });
    expect(await world.alias('blue')).toEqual({ name: 'blue', version: '1' });
    expect(await world.lock()).toBeUndefined();
    expect(world.notifier.sent.map((n) => n.outcome)).toEqual(['approval-requested', 'released']);
  });

  it('routes exactly the canary weight to green while the canary bakes', async () => {
    const world = await new ReleaseWorld().seed();
    const handlers = world.handlers();
    const check = handlers[STATES.check];
    const seen: unknown[] = [];
    handlers[STATES.check] = async (input) => {
      seen.push(await world.live());
      return check?.(input);
    };
    await world.run(world.apiRequest(), { handlers });
    expect(seen[0]).toEqual({ name: 'live', version: '1', routing: { version: '2', weight: 0.1 } });
    expect(seen.at(-1)).toEqual({ name: 'live', version: '2' });
  });

  it('fast-forwards on request: straight to 100% without the remaining bake, the reason in the history', async () => {
    const world = await new ReleaseWorld().seed();
    const handlers = world.handlers();
    const check = handlers[STATES.check];
    handlers[STATES.check] = async (input) => {
      if (world.checkedAt.length === 2) {
        await requestFastForward('release-1', 'carol', 'incident fix, error budget exhausted', world.deps);
      }
      return check?.(input);
    };
    const result = await world.run(world.apiRequest(), { handlers });
    expect(result.status).toBe('SUCCEEDED');
    expect(await world.shifts()).toEqual([10, 100]);
    // Requested before the third check: three checks at 10%, one at 100% with no bake left, instead of five and ten.
    expect(world.checkedAt).toEqual([10, 10, 10, 100]);
    expect(await world.live()).toEqual({ name: 'live', version: '2' });
    const events = (await world.store.getRelease('release-1'))?.events.map((e) => e.summary) ?? [];
    expect(events).toContain('fast-forward requested by carol: incident fix, error budget exhausted');
  });

  it('fails verification without touching live, and names the failing check', async () => {
    const world = await new ReleaseWorld({ behaviour: { [DIGEST_GREEN]: { healthStatus: 503 } } }).seed();
    const result = await world.run(world.apiRequest());

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ReleaseFailed');
    expect(result.cause).toContain('VerificationFailed');
    expect(result.cause).toContain('health (expected 200 reporting version 2, got 503');
    expect(entered(result)).not.toContain(STATES.shift);
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
    expect(await world.store.getRelease('release-1')).toMatchObject({ status: 'failed' });
    expect(world.notifier.sent.map((n) => n.outcome)).toEqual(['failed']);
  });

  it('fails verification when a smoke request gets the wrong status', async () => {
    const world = await new ReleaseWorld({
      behaviour: { [DIGEST_GREEN]: { statusFor: { 'GET /version': 500 } } },
    }).seed();
    const result = await world.run(world.apiRequest());
    expect(result.error).toBe('ReleaseFailed');
    expect(result.cause).toContain('version (expected 200, got 500)');
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
  });

  it('rolls back at the first unhealthy check after healthy ones, with the evidence in the output', async () => {
    const world = await new ReleaseWorld({
      traffic: (check) => (check < 3 ? { invocations: 100, errors: 0 } : { invocations: 100, errors: 30 }),
    }).seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ReleaseRolledBack');
    // The errors of the fourth minute are judged once that minute's data is complete: two minutes later.
    expect(result.cause).toContain('window 10:03:00–10:04:00: error rate 30.00% exceeds 1%');
    expect(world.checkedAt).toHaveLength(6);
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
    const rollBack = result.events.find((e) => e.type === 'StateExited' && e.state === STATES.rollBack);
    expect(rollBack?.output).toMatchObject({
      traffic: { next: 'roll-back', lastCheck: { verdict: 'unhealthy', sample: { invocations: 100, errors: 30 } } },
      rollback: { outcome: 'rolled-back', live: { version: '1' } },
    });
    expect(await world.store.getRelease('release-1')).toMatchObject({ status: 'rolled-back' });
    expect(world.notifier.sent.map((n) => n.outcome)).toEqual(['approval-requested', 'rolled-back']);
  });

  it('rolls back a canary from 10% without ever sending green more than its share', async () => {
    const world = await new ReleaseWorld({
      traffic: (check) => ({ invocations: 60, errors: check === 1 ? 30 : 0 }),
    }).seed();
    const result = await world.run(world.apiRequest());
    expect(result.error).toBe('ReleaseRolledBack');
    expect(await world.shifts()).toEqual([10]);
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
  });

  it('rolls back when the whole bake has too little traffic and the environment says so', async () => {
    const world = await new ReleaseWorld({ traffic: () => ({ invocations: 2, errors: 0 }) }).seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));
    expect(result.error).toBe('ReleaseRolledBack');
    expect(result.cause).toContain('fewer than the 50 needed to judge');
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
  });

  it('promotes a quiet release only with a recorded warning where the environment allows it', async () => {
    const environments = environmentsWith('prod', {
      onInsufficientData: 'promote-with-warning',
      bake: ONE_MINUTE_BAKE,
    });
    const world = await new ReleaseWorld({ environments, traffic: () => ({ invocations: 1, errors: 0 }) }).seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ outcome: { outcome: 'released-with-warnings' } });
    expect(JSON.stringify(result.output)).toContain('promoted without enough traffic to judge');
    expect(world.notifier.sent.at(-1)).toMatchObject({ outcome: 'released-with-warnings' });
    expect(await world.store.getRelease('release-1')).toMatchObject({
      status: 'released',
      reason: expect.stringContaining('without enough traffic'),
    });
  });

  it('alerts instead of rolling back where auto-rollback is off', async () => {
    const environments = environmentsWith('prod', { onUnhealthy: 'alert', bake: ONE_MINUTE_BAKE });
    const world = await new ReleaseWorld({
      environments,
      traffic: (check) => ({ invocations: 100, errors: check === 2 ? 8 : 0 }),
    }).seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));
    expect(result.status).toBe('SUCCEEDED');
    expect(world.notifier.sent.map((n) => n.outcome)).toEqual([
      'approval-requested',
      'unhealthy-alert',
      'released-with-warnings',
    ]);
    expect(await world.live()).toEqual({ name: 'live', version: '2' });
  });

  it('ignores a watched alarm that was already firing before the release, but not one that fires during it', async () => {
    const quiet = await new ReleaseWorld().seed();
    quiet.alarms.set('switchyard-api-prod-5xx', 'ALARM', new Date('2026-11-26T09:00:00Z'));
    const fix = await quiet.run(quiet.apiRequest({ strategy: { kind: 'all-at-once' } }));
    expect(fix.status).toBe('SUCCEEDED');

    const noisy = await new ReleaseWorld().seed();
    const handlers = noisy.handlers();
    const check = handlers[STATES.check];
    handlers[STATES.check] = async (input) => {
      noisy.alarms.set('switchyard-api-prod-latency', 'ALARM', noisy.clock.now());
      return check?.(input);
    };
    const broken = await noisy.run(noisy.apiRequest({ strategy: { kind: 'all-at-once' } }), { handlers });
    expect(broken.error).toBe('ReleaseRolledBack');
    expect(broken.cause).toContain('alarm switchyard-api-prod-latency is firing');
  });

  describe('a transient AWS failure at each step is retried and the release still completes', () => {
    const cases = [
      ['Validate release', 'functions', 'getAlias'],
      ['Validate release', 'store', 'acquireLock'],
      ['Deploy green', 'functions', 'updateCodeAndWait'],
      ['Deploy green', 'functions', 'publishVersion'],
      ['Verify green', 'functions', 'invoke'],
      ['Shift traffic', 'functions', 'updateAlias'],
      ['Check health', 'metrics', 'sampleAll'],
      ['Finalize', 'functions', 'ensureAlias'],
    ] as const;
    it.each(cases)('%s: %s.%s throttled once', async (_state, port, method) => {
      const world = await new ReleaseWorld().seed();
      const target = world.deps[port] as unknown as Record<string, unknown>;
      const flaky = { ...world.deps, [port]: failFirst(target, method, throttled) };
      // Seeding used the ports directly; the flaky wrapper only sees the release's own calls.
      const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }), {
        handlers: world.handlers(flaky as typeof world.deps),
      });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.events.filter((e) => e.type === 'StateRetried')).toHaveLength(1);
      expect(await world.live()).toEqual({ name: 'live', version: '2' });
      expect(await world.lock()).toBeUndefined();
      expect(world.functions.versionsOf(world.functionName).filter((v) => v.description === 'release-1')).toEqual([
        expect.objectContaining({ version: '2' }),
      ]);
    });

    it('Roll back: a throttled alias update is retried and live still returns to blue', async () => {
      const world = await new ReleaseWorld({ traffic: () => ({ invocations: 100, errors: 50 }) }).seed();
      const functions = failFirst(world.deps.functions, 'updateAlias', throttled, 2);
      const handlers = world.handlers({ ...world.deps, functions });
      const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }), { handlers });
      expect(result.error).toBe('ReleaseRolledBack');
      expect(await world.live()).toEqual({ name: 'live', version: '1' });
      expect(await world.lock()).toBeUndefined();
    });
  });

  it('a notification that cannot be sent never changes the outcome: it is recorded and the release completes', async () => {
    const world = await new ReleaseWorld().seed();
    const notifier = failFirst(world.deps.notifier, 'notify', () => new Error('SNS is down'), 1000);
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }), {
      handlers: world.handlers({ ...world.deps, notifier }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(await world.live()).toEqual({ name: 'live', version: '2' });
    expect(await world.lock()).toBeUndefined();
    const failed = (await world.store.getRelease('release-1'))?.events.filter((e) => e.kind === 'notification-failed');
    expect(failed?.map((e) => e.summary)).toContain(
      '"Switchyard: prod release release-1 is live" was not sent: SNS is down',
    );
  });

  it.each([
    // The first write names the version; a retry reads it back from the record (reused).
    ['after it recorded the version', 2, true],
    // The write that names the version failed; a retry publishes again and Lambda hands back the same version.
    ['before it recorded the version', 1, false],
  ])('a Deploy green retried %s publishes one version, not two', async (_when, failedWrite, reused) => {
    const world = await new ReleaseWorld().seed();
    let writes = 0;
    const store = new Proxy(world.deps.store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'update' || typeof value !== 'function') {
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return async (...args: Parameters<typeof target.update>) => {
          if (++writes === failedWrite) throw throttled();
          return target.update(...args);
        };
      },
    });
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }), {
      handlers: world.handlers({ ...world.deps, store }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.events.filter((e) => e.type === 'StateRetried' && e.state === STATES.deploy)).toHaveLength(1);
    const deployExits = result.events.filter((e) => e.type === 'StateExited' && e.state === STATES.deploy);
    expect(deployExits[0]?.output).toMatchObject({ green: { version: '2', reused } });
    expect(world.functions.versionsOf(world.functionName).filter((v) => v.description === 'release-1')).toEqual([
      expect.objectContaining({ version: '2' }),
    ]);
    await expect(world.functions.getAlias(world.functionName, 'live')).resolves.toEqual({ name: 'live', version: '2' });
  });

  it('a permanent failure after traffic moved ends Rolled back', async () => {
    const world = await new ReleaseWorld().seed();
    const metrics = failFirst(world.deps.metrics, 'sampleAll', () => new Error('AccessDenied: not authorized'), 1000);
    const result = await world.run(world.apiRequest(), { handlers: world.handlers({ ...world.deps, metrics }) });
    expect(result.error).toBe('ReleaseRolledBack');
    expect(result.cause).toContain('AccessDenied');
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
  });

  it('a permanent failure before traffic moved ends Release failed with live untouched', async () => {
    const world = await new ReleaseWorld().seed();
    const functions = failFirst(
      world.deps.functions,
      'updateCodeAndWait',
      () => Object.assign(new Error('image manifest is not arm64'), { name: 'DeploymentFailed' }),
      1000,
    );
    const result = await world.run(world.apiRequest(), { handlers: world.handlers({ ...world.deps, functions }) });
    expect(result.error).toBe('ReleaseFailed');
    expect(result.cause).toContain('image manifest is not arm64');
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
    expect(await world.store.getRelease('release-1')).toMatchObject({ status: 'failed' });
  });

  it('refuses a second release while one runs, naming the running one, and leaves the first unaffected', async () => {
    const world = await new ReleaseWorld().seed();
    const first = world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }), { name: 'first', bakeMs: 20 });
    while (!(await world.lock())) await new Promise((r) => setTimeout(r, 5));
    const second = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }), { name: 'second' });

    expect(second.error).toBe('ReleaseFailed');
    expect(second.cause).toContain('ReleaseLocked');
    expect(second.cause).toContain('release first');
    expect(await world.lock()).toMatchObject({ releaseId: 'first' });
    expect(world.notifier.sent.find((n) => n.releaseId === 'second')).toMatchObject({ outcome: 'refused' });

    const done = await first;
    expect(done.status).toBe('SUCCEEDED');
    expect(await world.live()).toEqual({ name: 'live', version: '2' });
    expect(await world.lock()).toBeUndefined();
    expect(await world.store.getRelease('second')).toBeUndefined();
  });

  describe('approval', () => {
    const waitForApprovalRequest = async (world: ReleaseWorld, releaseId = 'release-1') => {
      for (let i = 0; i < 500; i++) {
        const record = await world.store.getRelease(releaseId);
        if (record?.events.some((e) => e.kind === 'approval-requested')) return record;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error('approval was never requested');
    };

    it('waits at Await approval with live untouched until an operator approves, then moves traffic', async () => {
      const world = await new ReleaseWorld({ approvals: 'manual' }).seed();
      const running = world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));
      const record = await waitForApprovalRequest(world);
      expect(record.targets.members[0]?.greenVersion).toBe('2');
      expect(await world.live()).toEqual({ name: 'live', version: '1' });
      expect(JSON.stringify(record)).not.toContain('local:release-1');

      await world.approvals.decide('release-1', { approved: true, by: 'alice', comment: 'change 42' });
      const result = await running;
      expect(result.status).toBe('SUCCEEDED');
      expect(await world.live()).toEqual({ name: 'live', version: '2' });
      const events = (await world.store.getRelease('release-1'))?.events.map((e) => e.summary);
      expect(events).toContain('approved by alice: change 42');
    });

    it('a rejection ends Release failed, live never touched, the lock freed, and a second answer is refused', async () => {
      const world = await new ReleaseWorld({ approvals: 'manual' }).seed();
      const running = world.run(world.apiRequest());
      await waitForApprovalRequest(world);
      await world.approvals.decide('release-1', { approved: false, by: 'bob', comment: 'not during the sale' });
      const result = await running;
      expect(result.error).toBe('ReleaseFailed');
      expect(result.cause).toContain('ApprovalRejected: rejected by bob: not during the sale');
      expect(entered(result)).not.toContain(STATES.shift);
      expect(await world.live()).toEqual({ name: 'live', version: '1' });
      expect(await world.lock()).toBeUndefined();
      await expect(world.approvals.decide('release-1', { approved: true, by: 'eve' })).rejects.toThrow(
        'release release-1 is not waiting for approval',
      );
    });

    it('skips the gate where the environment needs no approval', async () => {
      const environments = environmentsWith('prod', { approvalRequired: false });
      const world = await new ReleaseWorld({ environments, approvals: 'manual' }).seed();
      const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));
      expect(result.status).toBe('SUCCEEDED');
      expect(entered(result)).not.toContain(STATES.approval);
    });
  });

  describe('malformed input is refused at Validate release with a precise error and no alias touched', () => {
    const cases: [string, unknown, string][] = [
      ['no digest', { trigger: 'api', environment: 'prod', requestedBy: 'ops' }, 'imageDigest'],
      [
        'a tag only',
        { trigger: 'api', environment: 'prod', imageDigest: 'latest', requestedBy: 'ops' },
        'tags are not deployed',
      ],
      [
        'an unknown environment',
        { trigger: 'api', environment: 'qa', imageDigest: DIGEST_GREEN, requestedBy: 'ops' },
        'unknown environment "qa"',
      ],
      [
        'a failed push',
        { ...ecrEventToRequest(ecrSample, 'dev'), imageDigest: DIGEST_GREEN, result: 'FAILURE' },
        'only successful pushes start a release',
      ],
      [
        'a DELETE action',
        { ...ecrEventToRequest(ecrSample, 'dev'), imageDigest: DIGEST_GREEN, actionType: 'DELETE' },
        'only PUSH actions start a release',
      ],
      [
        'a repository that is not configured',
        { ...ecrEventToRequest(ecrSample, 'dev'), imageDigest: DIGEST_GREEN },
        'repository "my-repository-name" is not configured for dev',
      ],
      ['non-JSON garbage', 'garbage%%%{', 'release input must be a JSON object, got string'],
      ['an array', [1, 2], 'must be a JSON object'],
      [
        'a digest the registry does not hold',
        { trigger: 'api', environment: 'prod', imageDigest: `sha256:${'c'.repeat(64)}`, requestedBy: 'ops' },
        'does not exist in the registry',
      ],
      [
        'the digest that is already live',
        { trigger: 'api', environment: 'prod', imageDigest: DIGEST_BLUE, requestedBy: 'ops' },
        'already live in prod as version 1',
      ],
    ];
    it.each(cases)('%s', async (_name, input, message) => {
      const world = await new ReleaseWorld().seed();
      const result = await world.run(input);
      expect(result.error).toBe('ReleaseFailed');
      expect(result.cause).toContain('InvalidRelease');
      expect(result.cause).toContain(message);
      expect(entered(result)).not.toContain(STATES.deploy);
      expect(await world.live()).toEqual({ name: 'live', version: '1' });
      expect(await world.alias('green')).toEqual({ name: 'green', version: '1' });
      expect(await world.lock()).toBeUndefined();
      expect(world.notifier.sent).toMatchObject([{ outcome: 'refused' }]);
    });
  });

  it('maps the real ECR sample event to a release input that passes validation', async () => {
    const world = await new ReleaseWorld({ environment: 'dev' }).seed();
    const sampleDigest = ecrSample.detail['image-digest'] as string;
    world.registry.push('my-repository-name', sampleDigest, 'git-0123abc');
    const environments = environmentsWith('dev', { repositoryName: 'my-repository-name' });
    const handlers = world.handlers({ ...world.deps, environments });
    const result = await world.run(ecrEventToRequest(ecrSample, 'dev'), { handlers });
    const validated = result.events.find((e) => e.type === 'StateExited' && e.state === STATES.validate);
    expect(validated?.output).toMatchObject({
      release: { environment: 'dev', digest: sampleDigest, repositoryName: 'my-repository-name', trigger: 'ecr-push' },
    });
  });
});

describe('Scan & provision at the image commit', () => {
  it("asks CodeBuild for the commit of the image's git-<commit> tag, not the branch tip", async () => {
    const world = await new ReleaseWorld({ environment: 'dev' }).seed();
    const result = await world.run(world.apiRequest());
    expect(result.status).toBe('SUCCEEDED');
    // The harness pushes DIGEST_GREEN as git-2.
    expect(world.provisionRequests.get('release-1')?.sourceVersion).toBe('2');
  });

  it('refuses an image with no git-<commit> tag before anything runs', async () => {
    const world = await new ReleaseWorld({ environment: 'dev' }).seed();
    const untagged = `sha256:${'7'.repeat(64)}`;
    world.registry.push('switchyard-api', untagged, 'latest');
    const result = await world.run(world.apiRequest({ imageDigest: untagged }));
    expect(result.error).toBe('ReleaseFailed');
    expect(result.cause).toContain(`image switchyard-api@${untagged} has no git-<commit> tag`);
    expect(world.provisionRequests.size).toBe(0);
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
  });
});

describe('verdicts on complete data only', () => {
  it('catches a fault that starts in the last minute of the bake, though its data points arrive late', async () => {
    // CloudWatch publishes a minute's data points 90 s after the minute ends; the fault starts in minute 10 of 10.
    const world = await new ReleaseWorld({
      metricPublishDelaySeconds: 90,
      traffic: (check) => ({ invocations: 100, errors: check === 9 ? 30 : 0 }),
    }).seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));

    expect(result.error).toBe('ReleaseRolledBack');
    expect(result.cause).toContain('final window 10:09:00–10:10:00: error rate 30.00% exceeds 1%');
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    const checks = result.events
      .filter((e) => e.type === 'StateExited' && e.state === STATES.check)
      .map((e) => (e.output as { traffic: { next: string; bakedSeconds: number } }).traffic);
    // The bake's ten minutes end at the tenth check; Finalize is never reached, the late window decides.
    expect(checks[9]).toMatchObject({ next: 'bake', bakedSeconds: 600 });
    expect(checks.at(-1)).toMatchObject({ next: 'roll-back' });
    expect(entered(result)).not.toContain(STATES.finalize);
  });

  it("finalizes only after the data of the bake's last minute can be complete", async () => {
    const world = await new ReleaseWorld({ metricPublishDelaySeconds: 90 }).seed();
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }));
    expect(result.status).toBe('SUCCEEDED');
    const finalCheck = result.events
      .filter((e) => e.type === 'StateExited' && e.state === STATES.check)
      .map((e) => (e.output as { traffic: { lastCheck: { window: { end: string } } } }).traffic.lastCheck)
      .at(-1);
    // The shift happened at 10:00, the bake ended at 10:10; the last window judged reaches 10:10.
    expect(finalCheck?.window.end).toBe('2026-11-26T10:10:00.000Z');
  });
});

describe('the first release of an environment', () => {
  it('releases the digest Terraform created the function from: no blue, not refused as already live', async () => {
    const world = await new ReleaseWorld().seed({ verified: false });
    const result = await world.run(world.apiRequest({ imageDigest: DIGEST_BLUE }));

    expect(result.status).toBe('SUCCEEDED');
    const record = await world.store.getRelease('release-1');
    expect(record).toMatchObject({ status: 'released' });
    expect(record?.targets.members).toMatchObject([{ blueVersion: null, greenVersion: '1' }]);
    expect(record?.events[0]?.summary).toContain(
      'which no release verified (the bootstrap version), so there is no blue',
    );
    // No blue: straight to 100%, whatever the environment's strategy.
    expect(await world.shifts()).toEqual([100]);
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
  });

  it('can be retried after it failed verification, and the retry is judged like the first attempt', async () => {
    const world = await new ReleaseWorld({ smokeSigners: new StaticSmokeSigners({}) }).seed({ verified: false });
    const failed = await world.run(world.apiRequest({ imageDigest: DIGEST_BLUE }), { name: 'release-1' });
    expect(failed.error).toBe('ReleaseFailed');
    expect(failed.cause).toContain('no smoke-test signing key is configured');

    const retry = new ReleaseWorld();
    const handlers = world.handlers({ ...world.deps, smokeSigners: retry.deps.smokeSigners });
    const result = await world.run(world.apiRequest({ imageDigest: DIGEST_BLUE }), { name: 'release-2', handlers });
    expect(result.status).toBe('SUCCEEDED');
    const retried = await world.store.getRelease('release-2');
    expect(retried).toMatchObject({ status: 'released' });
    expect(retried?.targets.members[0]?.blueVersion).toBeNull();
  });

  it('refuses the digest once a release verified it live', async () => {
    const world = await new ReleaseWorld().seed();
    const result = await world.run(world.apiRequest({ imageDigest: DIGEST_BLUE }));
    expect(result.error).toBe('ReleaseFailed');
    expect(result.cause).toContain(`${DIGEST_BLUE} is already live in prod as version 1`);
  });
});

describe('a cold first call to the new version', () => {
  it('gets the cold-start allowance; the smoke requests get the normal timeout', async () => {
    const world = await new ReleaseWorld().seed();
    const timeouts: number[] = [];
    const functions = new Proxy(world.deps.functions, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'invoke' || typeof value !== 'function')
          return typeof value === 'function' ? value.bind(target) : value;
        return (fn: string, qualifier: string, payload: unknown, timeoutMs: number) => {
          timeouts.push(timeoutMs);
          return value.call(target, fn, qualifier, payload, timeoutMs);
        };
      },
    });
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }), {
      handlers: world.handlers({ ...world.deps, functions }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(timeouts).toEqual([15_000, 3000, 3000, 3000]);
  });

  it('is retried when it times out, instead of failing the version for good', async () => {
    const world = await new ReleaseWorld().seed();
    const timedOut = () => new InvokeTimedOut('switchyard-api-prod:2 did not answer within 15000 ms');
    const functions = failFirst(world.deps.functions, 'invoke', timedOut);
    const result = await world.run(world.apiRequest({ strategy: { kind: 'all-at-once' } }), {
      handlers: world.handlers({ ...world.deps, functions }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.events.filter((e) => e.type === 'StateRetried').map((e) => e.state)).toEqual([STATES.verify]);
  });
});
