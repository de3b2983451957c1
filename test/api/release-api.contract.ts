import { describe, expect, it } from 'vitest';
import type { EnvironmentConfig } from '../../config/schema.ts';
import { singleTarget } from '../../core/model/target-set.ts';
import type { ReleaseEvent, ReleaseRecord } from '../../core/ports/ports.ts';
import {
  type FleetWrites,
  memberName,
  UNHEALTHY_REASON,
  writeFleetRelease,
  writeFleetRollback,
} from '../support/fleet-records.ts';
import { releasePath } from './api-events.ts';

export interface ApiReply {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  readonly body: any;
}

/** One implementation of the release API under test, with the few setup steps the contract needs. */
export interface ApiFixture {
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiReply>;
  /** An image in the registry that no environment runs yet, and a tag that names it. */
  readonly digest: string;
  readonly tag: string;
  /** Starts a prod release and returns its id once it waits at "Await approval", holding prod's lock. */
  parkForApproval(): Promise<string>;
  /**
   * Leaves `live` of the environment on a newer version than `blue`, as a finished release does: with the record of
   * that released release, which is what makes a live version verified.
   */
  liveAheadOfBlue(environment: string): Promise<void>;
  /**
   * Records, for a release parked at "Await approval", what its approval and first Shift traffic record: the
   * release is then baking as far as its record says (the execution itself stays parked).
   */
  markBaking(releaseId: string): Promise<void>;
  /** The implementation's release store, which the fleet's states write through (its public methods only). */
  readonly store: FleetWrites;
}

/** The events an approved release's first Shift traffic leaves on its record. */
export function bakingEvents(): ReleaseEvent[] {
  const at = new Date().toISOString();
  return [
    { at, kind: 'approved', summary: 'approved by contract' },
    {
      at,
      kind: 'traffic-shifted',
      summary: 'live → 10% on the new version',
      evidence: { stepIndex: 0, stepCount: 2, percent: 10, bakeSeconds: 300 },
    },
  ];
}

/** The record of the release that made `version` (of `digest`) live in `env`: what makes a live version verified. */
export function releasedRecord(
  env: EnvironmentConfig,
  version: string,
  imageUri: string,
  digest: string,
): ReleaseRecord {
  const releaseId = `rel-${env.name}-contract-live`;
  const at = new Date(0).toISOString();
  return {
    releaseId,
    executionArn: `arn:aws:states:us-east-1:123456789012:execution:switchyard-release:${releaseId}`,
    environment: env.name,
    imageUri,
    digest,
    targets: singleTarget({
      functionName: env.functionName,
      blueVersion: '1',
      greenVersion: version,
      phase: 'live',
      percent: 100,
    }),
    status: 'released',
    startedAt: at,
    endedAt: at,
    trigger: 'api:contract',
    events: [],
  };
}

export const CALLER = 'arn:aws:sts::123456789012:assumed-role/Operator/alice';

const fieldsOf = (reply: ApiReply): string[] => (reply.body.errors ?? []).map((e: { field: string }) => e.field);

/** The release API's contract: every route, its refusals and its answers, the same on every implementation. */
export function releaseApiContract(name: string, fixture: () => ApiFixture): void {
  describe(`the release API contract (${name})`, () => {
    it('refuses a bad start body with 400 naming each bad field', async () => {
      const reply = await fixture().call('POST', '/environments/dev/releases', {
        environment: 'dev',
        imageDigest: 'latest',
        strategy: { kind: 'canary', percent: 150, bakeMinutes: 5 },
        surprise: true,
      });
      expect(reply.status).toBe(400);
      // The environment is the path's: a body naming one is refused like any other unknown field.
      expect(fieldsOf(reply)).toEqual(expect.arrayContaining(['(body)', 'imageDigest', 'strategy.percent']));
      expect(reply.body.errors).toContainEqual({ field: '(body)', message: expect.stringContaining('environment') });
    });

    it('refuses unknown environments (404), digest and tag together, unknown tags and malformed JSON', async () => {
      const f = fixture();
      const unknownEnv = await f.call('POST', '/environments/qa/releases', { imageDigest: f.digest });
      expect([unknownEnv.status, unknownEnv.body.message]).toEqual([404, expect.stringContaining('qa')]);
      const both = await f.call('POST', '/environments/dev/releases', { imageDigest: f.digest, imageTag: f.tag });
      expect([both.status, fieldsOf(both)]).toEqual([400, ['imageDigest']]);
      const noTag = await f.call('POST', '/environments/dev/releases', { imageTag: 'no-such-tag' });
      expect([noTag.status, fieldsOf(noTag)]).toEqual([400, ['imageTag']]);
      const notJson = await f.call('POST', '/environments/dev/releases', '{"imageDigest":');
      expect([notJson.status, fieldsOf(notJson)]).toEqual([400, ['(body)']]);
    });

    it('answers 404 for an unknown release on every release route, and for unknown routes', async () => {
      const f = fixture();
      const id = 'rel-dev-20990101000000-000000';
      expect((await f.call('GET', `/releases/${id}`)).status).toBe(404);
      expect((await f.call('POST', `${releasePath(id)}/approve`, {})).status).toBe(404);
      expect((await f.call('POST', `${releasePath(id)}/reject`, { reason: 'no' })).status).toBe(404);
      expect((await f.call('POST', `${releasePath(id)}/fast-forward`, { reason: 'hurry' })).status).toBe(404);
      expect((await f.call('POST', `/environments/staging/promotions/${id}`, {})).status).toBe(404);
      expect((await f.call('POST', `${releasePath(id)}/retry`, {})).status).toBe(404);
      expect((await f.call('POST', `${releasePath(id)}/abort`, {})).status).toBe(404);
      expect((await f.call('POST', `${releasePath(id)}/pause`, {})).status).toBe(404);
      expect((await f.call('POST', `${releasePath(id)}/resume`, {})).status).toBe(404);
      expect((await f.call('POST', '/environments/qa/rollback', { reason: 'x' })).status).toBe(404);
      expect((await f.call('GET', '/nowhere')).status).toBe(404);
      expect((await f.call('DELETE', '/releases')).status).toBe(405);
    });

    it('validates list filters and pages through releases with a cursor', async () => {
      const f = fixture();
      const bad = await f.call('GET', '/releases?status=exploded&limit=0');
      expect(bad.status).toBe(400);
      expect(fieldsOf(bad)).toEqual(expect.arrayContaining(['status', 'limit']));
      const page = await f.call('GET', '/releases?limit=1');
      expect(page.status).toBe(200);
      expect(Array.isArray(page.body.releases)).toBe(true);
      const forged = await f.call('GET', '/releases?cursor=bm90LWEtY3Vyc29y');
      expect(forged.status).toBe(400);
      expect(fieldsOf(forged)).toEqual(['cursor']);
    });

    it('resolves a tag to its digest, and an idempotent retry returns the same release', async () => {
      const f = fixture();
      const body = { imageTag: f.tag, idempotencyKey: 'ci-build-42' };
      const first = await f.call('POST', '/environments/dev/releases', body);
      expect(first.status).toBe(202);
      expect(first.body).toMatchObject({ environment: 'dev', imageDigest: f.digest });
      expect(first.body.consoleUrl).toContain(`#/v2/executions/details/${first.body.executionArn}`);
      expect(first.body.executionArn).toMatch(new RegExp(`:execution:[^:]+:${first.body.releaseId}$`));
      const retry = await f.call('POST', '/environments/dev/releases', body);
      expect(retry.status).toBe(200);
      expect(retry.body).toMatchObject({ releaseId: first.body.releaseId, replayed: true });
      const byHeader = await f.call(
        'POST',
        '/environments/dev/releases',
        { imageTag: f.tag },
        {
          'Idempotency-Key': 'ci-build-42',
        },
      );
      expect(byHeader.body.releaseId).toBe(first.body.releaseId);
    });

    it('refuses with 400, naming the field, every start Validate release would refuse; nothing starts', async () => {
      const f = fixture();
      const canaryOnDev = await f.call('POST', '/environments/dev/releases', {
        imageDigest: f.digest,
        strategy: { kind: 'canary', percent: 10, bakeMinutes: 5 },
      });
      expect([canaryOnDev.status, fieldsOf(canaryOnDev)]).toEqual([400, ['strategy']]);
      const longBake = await f.call('POST', '/environments/staging/releases', {
        imageDigest: f.digest,
        strategy: { kind: 'canary', percent: 10, bakeMinutes: 1000 },
      });
      expect([longBake.status, fieldsOf(longBake)]).toEqual([400, ['strategy']]);
      expect(longBake.body.message).toContain('longer than the');
      await f.liveAheadOfBlue('staging');
      const alreadyLive = await f.call('POST', '/environments/staging/releases', { imageDigest: f.digest });
      expect([alreadyLive.status, fieldsOf(alreadyLive)]).toEqual([400, ['imageDigest']]);
      expect(alreadyLive.body.message).toContain('already live in staging');
      const listed = await f.call('GET', '/environments/staging/releases');
      expect(listed.body.releases.filter((r: { status: string }) => r.status === 'running')).toEqual([]);
      await f.call('POST', '/environments/staging/rollback', { reason: 'contract test cleanup' });
      await f.call('POST', '/environments/staging/clear-hold', { reason: 'contract test cleanup' });
    });

    it('two simultaneous starts: exactly one 202, the other 409 naming it', async () => {
      const f = fixture();
      const body = { imageDigest: f.digest, strategy: { kind: 'all-at-once' } };
      const start = () => f.call('POST', '/environments/staging/releases', body);
      const replies = await Promise.all([start(), start()]);
      expect(replies.map((r) => r.status).sort()).toEqual([202, 409]);
      const winner = replies.find((r) => r.status === 202)?.body.releaseId;
      expect(replies.find((r) => r.status === 409)?.body).toMatchObject({
        runningRelease: winner,
        error: 'ReleaseLocked',
      });
      // Stopped at once, maybe before Validate release has recorded it: the abort still takes (the reconcile, on
      // AWS the status-change rule, then frees the lock).
      const aborted = await f.call('POST', `${releasePath(winner)}/abort`, { reason: 'contract test cleanup' });
      expect(aborted.status).toBe(202);
    });

    it('refuses a release while another runs with 409 naming the running release', async () => {
      const f = fixture();
      const running = await f.parkForApproval();
      const reply = await f.call('POST', '/environments/prod/releases', { imageDigest: f.digest });
      expect(reply.status).toBe(409);
      expect(reply.body.runningRelease).toBe(running);
      expect(reply.body.message).toContain(running);
      await f.call('POST', `${releasePath(running)}/abort`, { reason: 'contract test cleanup' });
    });

    it('shows a parked release with its status, current state, steps and pending approval', async () => {
      const f = fixture();
      const id = await f.parkForApproval();
      const reply = await f.call('GET', `/releases/${id}`);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ releaseId: id, environment: 'prod', status: 'running' });
      expect(reply.body.currentState).toBe('Await approval');
      expect(reply.body.awaitingApproval).toMatchObject({ expiresAt: expect.any(String) });
      expect(reply.body.steps.map((s: { name: string }) => s.name)).toContain('Validate release');
      expect(reply.body.events.map((e: { kind: string }) => e.kind)).toContain('approval-requested');
      // One function is one target in one wave; its blue and green read at the top, as they always have.
      const targets = reply.body.targets;
      expect(targets).toMatchObject({ waveCount: 1, currentWave: null, halted: null });
      expect(targets.members).toEqual([expect.objectContaining({ wave: 0, phase: 'verified', percent: 0 })]);
      expect(reply.body.greenVersion).toEqual(expect.any(String));
      expect([reply.body.blueVersion, reply.body.greenVersion]).toEqual([
        targets.members[0].blueVersion,
        targets.members[0].greenVersion,
      ]);
      const listed = await f.call('GET', '/environments/prod/releases?limit=100');
      const row = listed.body.releases.find((r: { releaseId: string }) => r.releaseId === id);
      expect(row.targets).toEqual({ members: 1, waveCount: 1, currentWave: null });
      expect(row.greenVersion).toBe(reply.body.greenVersion);
      await f.call('POST', `${releasePath(id)}/abort`, { reason: 'contract test cleanup' });
    });

    it('acts on a release only under its own environment: a staging path to a prod release is 404', async () => {
      const f = fixture();
      const id = await f.parkForApproval();
      const staging = `/environments/staging/releases/${id}`;
      for (const [action, body] of [
        ['approve', {}],
        ['reject', { reason: 'not mine' }],
        ['fast-forward', { reason: 'hurry' }],
        ['pause', {}],
        ['abort', {}],
        ['retry', {}],
      ] as const) {
        const reply = await f.call('POST', `${staging}/${action}`, body);
        expect([action, reply.status, reply.body.message]).toEqual([action, 404, `no release ${id} in staging`]);
      }
      const shown = await f.call('GET', `/releases/${id}`);
      expect(shown.body).toMatchObject({ status: 'running', currentState: 'Await approval' });
      expect(shown.body.events.map((e: { kind: string }) => e.kind)).not.toContain('abort-requested');
      // The old routes, which IAM could not tell apart by environment, are gone rather than kept as aliases.
      expect((await f.call('POST', `/releases/${id}/approve`, {})).status).toBe(404);
      expect((await f.call('POST', '/releases', { environment: 'prod', imageDigest: f.digest })).status).toBe(405);
      const approved = await f.call('POST', `/environments/prod/releases/${id}/approve`, {});
      expect(approved.status).toBe(200);
      await f.call('POST', `${releasePath(id)}/abort`, { reason: 'contract test cleanup' });
    });

    it('approves once: the second answer is a 409', async () => {
      const f = fixture();
      const id = await f.parkForApproval();
      const approved = await f.call('POST', `${releasePath(id)}/approve`, { comment: 'looks good' });
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({ releaseId: id, approved: true });
      const again = await f.call('POST', `${releasePath(id)}/approve`, {});
      expect(again.status).toBe(409);
      await f.call('POST', `${releasePath(id)}/abort`, { reason: 'contract test cleanup' });
    });

    it('rejects with a required reason', async () => {
      const f = fixture();
      const id = await f.parkForApproval();
      const noReason = await f.call('POST', `${releasePath(id)}/reject`, {});
      expect([noReason.status, fieldsOf(noReason)]).toEqual([400, ['reason']]);
      const rejected = await f.call('POST', `${releasePath(id)}/reject`, { reason: 'wrong build' });
      expect(rejected.status).toBe(200);
      expect(rejected.body).toMatchObject({ releaseId: id, approved: false });
    });

    it('fast-forwards with a required reason and records who asked and why', async () => {
      const f = fixture();
      const id = await f.parkForApproval();
      const noReason = await f.call('POST', `${releasePath(id)}/fast-forward`, { reason: '  ' });
      expect([noReason.status, fieldsOf(noReason)]).toEqual([400, ['reason']]);
      const promoted = await f.call('POST', `${releasePath(id)}/fast-forward`, { reason: 'hotfix for incident 7' });
      expect(promoted.status).toBe(202);
      const shown = await f.call('GET', `/releases/${id}`);
      const event = shown.body.events.find((e: { kind: string }) => e.kind === 'fast-forward-requested');
      expect(event.summary).toContain('hotfix for incident 7');
      await f.call('POST', `${releasePath(id)}/abort`, { reason: 'contract test cleanup' });
    });

    it('pauses only a baking release and resumes only a paused one, each refusal a 409 that says why', async () => {
      const f = fixture();
      const id = await f.parkForApproval();
      const early = await f.call('POST', `${releasePath(id)}/pause`, {});
      expect([early.status, early.body.error]).toEqual([409, 'Conflict']);
      expect(early.body.message).toBe(
        `release ${id} is waiting for approval, not baking: approve or reject it (a pause holds a bake)`,
      );
      const notPaused = await f.call('POST', `${releasePath(id)}/resume`, {});
      expect([notPaused.status, notPaused.body.message]).toEqual([409, `release ${id} is not paused`]);
      const badBody = await f.call('POST', `${releasePath(id)}/pause`, { reason: 7 });
      expect([badBody.status, fieldsOf(badBody)]).toEqual([400, ['reason']]);

      await f.markBaking(id);
      const paused = await f.call('POST', `${releasePath(id)}/pause`, { reason: 'schema migration' });
      expect(paused.status).toBe(202);
      expect(paused.body).toMatchObject({ releaseId: id, by: CALLER, maxPauseMinutes: 60 });
      expect(Date.parse(paused.body.rollsBackAfter) - Date.parse(paused.body.pausedAt)).toBe(60 * 60_000);
      const shown = await f.call('GET', `/releases/${id}`);
      expect(shown.body.paused).toEqual({ pausedAt: paused.body.pausedAt, by: CALLER, reason: 'schema migration' });
      const twice = await f.call('POST', `${releasePath(id)}/pause`, {});
      expect([twice.status, twice.body.message]).toEqual([
        409,
        `release ${id} is already paused since ${paused.body.pausedAt} by ${CALLER}`,
      ]);

      const resumed = await f.call('POST', `${releasePath(id)}/resume`, {});
      expect(resumed.status).toBe(200);
      expect(resumed.body).toMatchObject({ releaseId: id, by: CALLER, pausedSeconds: expect.any(Number) });
      expect((await f.call('GET', `/releases/${id}`)).body.paused).toBeNull();

      // Paused again, the release can still be aborted.
      expect((await f.call('POST', `${releasePath(id)}/pause`, {})).status).toBe(202);
      const aborted = await f.call('POST', `${releasePath(id)}/abort`, { reason: 'contract test cleanup' });
      expect(aborted.status).toBe(202);
    });

    it('aborts a running release and refuses to promote a digest that has not been released', async () => {
      const f = fixture();
      const id = await f.parkForApproval();
      const next = await f.call('POST', `/environments/staging/promotions/${id}`, {});
      expect(next.status).toBe(409);
      const aborted = await f.call('POST', `${releasePath(id)}/abort`, { reason: 'wrong window' });
      expect(aborted.status).toBe(202);
      expect(aborted.body).toMatchObject({ releaseId: id });
    });

    it('shows a fleet release: each member with wave, phase, percent and verdict, the wave and the member that tripped', async () => {
      const f = fixture();
      const releaseId = `rel-prod-contract-fleet-${Date.now()}`;
      // Five members in three waves (1, then 60% of them, then the rest): svc-003, in wave 2, trips the fleet.
      await writeFleetRelease(f.store, {
        releaseId,
        environment: 'prod',
        members: 5,
        waves: [{ members: 1 }, { percent: 60 }, { percent: 100 }],
        tripAt: 2,
        end: 'halted',
      });
      const halted = await f.call('GET', `/releases/${releaseId}`);
      expect(halted.status).toBe(200);
      const fleet = halted.body.targets;
      expect(fleet).toMatchObject({ waveCount: 3, currentWave: 1, trippedBy: 'svc-003' });
      expect(
        fleet.members.map((m: { name: string; wave: number; phase: string; percent: number }) => [
          m.name,
          m.wave,
          m.phase,
          m.percent,
        ]),
      ).toEqual([
        ['svc-001', 0, 'baking', 100],
        ['svc-002', 1, 'baking', 100],
        ['svc-003', 1, 'baking', 100],
        ['svc-004', 2, 'verified', 0],
        ['svc-005', 2, 'verified', 0],
      ]);
      expect(fleet.members[2].verdict).toMatchObject({
        verdict: 'unhealthy',
        reason: expect.stringContaining('15.33%'),
      });
      expect(fleet.members[1].verdict).toMatchObject({ verdict: 'healthy' });
      expect(fleet.members[3]).not.toHaveProperty('verdict');
      expect(fleet.waves).toEqual([
        { wave: 0, members: 1, phases: { baking: 1 }, unhealthy: [] },
        { wave: 1, members: 2, phases: { baking: 2 }, unhealthy: ['svc-003'] },
        { wave: 2, members: 2, phases: { verified: 2 }, unhealthy: [] },
      ]);
      expect(fleet.halted).toMatchObject({
        trippedBy: 'svc-003',
        wave: 1,
        reasons: [`svc-003 (v2, 100%): ${UNHEALTHY_REASON}`],
      });
      // A fleet has no single blue or green: each member's are in its target.
      expect(halted.body.blueVersion).toBeNull();
      expect(halted.body).not.toHaveProperty('greenVersion');
      expect(halted.body.events.filter((e: { kind: string }) => e.kind === 'deployed')).toHaveLength(5);

      // The rollback brings back every member that moved; the list shows the fleet's size, not its members.
      const moved = [0, 1, 2].map(memberName);
      const untouched = ['svc-004', 'svc-005'];
      await writeFleetRollback(
        f.store,
        releaseId,
        { moved, untouched, trippedBy: 'svc-003' },
        new Date().toISOString(),
        'x',
      );
      const after = await f.call('GET', `/releases/${releaseId}`);
      expect(after.body.status).toBe('rolled-back');
      expect(after.body.targets.currentWave).toBeNull();
      expect(after.body.targets.members.filter((m: { percent: number }) => m.percent > 0)).toEqual([]);
      expect(after.body.targets.waves.map((w: { phases: unknown }) => w.phases)).toEqual([
        { 'rolled-back': 1 },
        { 'rolled-back': 2 },
        { verified: 2 },
      ]);
      const listed = await f.call('GET', '/environments/prod/releases?limit=100');
      const row = listed.body.releases.find((r: { releaseId: string }) => r.releaseId === releaseId);
      expect(row.targets).toEqual({ members: 5, waveCount: 3, currentWave: null, trippedBy: 'svc-003' });
    });

    it('lists each environment with live, blue and green, and the release holding its lock', async () => {
      const f = fixture();
      const id = await f.parkForApproval();
      const reply = await f.call('GET', '/environments');
      expect(reply.status).toBe(200);
      const prod = reply.body.environments.find((e: { name: string }) => e.name === 'prod');
      expect(prod).toMatchObject({
        approvalRequired: true,
        promotesTo: null,
        runningRelease: { releaseId: id },
      });
      const staging = reply.body.environments.find((e: { name: string }) => e.name === 'staging');
      expect(staging).toMatchObject({ promotesTo: 'prod', runningRelease: null });
      await f.call('POST', `${releasePath(id)}/abort`, { reason: 'contract test cleanup' });
      const after = await f.call('GET', '/environments');
      const freed = after.body.environments.find((e: { name: string }) => e.name === 'prod');
      expect(freed.runningRelease).toBeNull();
    });

    it('rolls an environment back to blue with a required reason', async () => {
      const f = fixture();
      await f.liveAheadOfBlue('staging');
      const noReason = await f.call('POST', '/environments/staging/rollback', {});
      expect([noReason.status, fieldsOf(noReason)]).toEqual([400, ['reason']]);
      const reply = await f.call('POST', '/environments/staging/rollback', { reason: 'errors after deploy' });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ environment: 'staging', from: '2', to: '1', reason: 'errors after deploy' });
      expect(reply.body.hold).toMatchObject({ active: true });
      const again = await f.call('POST', '/environments/staging/rollback', { reason: 'twice' });
      expect(again.status).toBe(400);
      // The rollback held the environment: an API start is refused naming the hold, unless it passes it.
      const held = await f.call('POST', '/environments/staging/releases', { imageDigest: f.digest });
      expect([held.status, held.body.error, held.body.policy]).toEqual([409, 'ReleaseRefused', 'hold']);
      expect(held.body.message).toContain('errors after deploy');
      const status = await f.call('GET', '/environments');
      const staging = status.body.environments.find((e: { name: string }) => e.name === 'staging');
      expect(staging.policy.hold).toMatchObject({ reason: expect.stringContaining('errors after deploy') });
      const cleared = await f.call('POST', '/environments/staging/clear-hold', { reason: 'fixed forward' });
      expect([cleared.status, cleared.body.held]).toEqual([200, false]);
      expect(cleared.body.history.slice(-2).map((c: { action: string }) => c.action)).toEqual(['held', 'cleared']);
      const twice = await f.call('POST', '/environments/staging/clear-hold', { reason: 'again' });
      expect(twice.status).toBe(409);
    });
  });
}
