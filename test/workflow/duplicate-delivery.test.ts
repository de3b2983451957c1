import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { environments } from '../../config/environments.ts';
import { deliveryKey } from '../../core/steps/validate-release.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { transformInput } from '../infra/event-patterns.ts';
import { service } from '../infra/service-stack.ts';
import { DIGEST_GREEN, ReleaseWorld } from './harness.ts';

const sample = JSON.parse(readFileSync(new URL('../fixtures/ecr-image-push.json', import.meta.url), 'utf8')) as {
  id: string;
  detail: Record<string, string>;
};

/** The ECR push event, for this service's repository and the green digest. */
const pushEvent = {
  ...sample,
  detail: { ...sample.detail, 'repository-name': environments.dev.repositoryName, 'image-digest': DIGEST_GREEN },
};

/**
 * The execution input exactly as the synthesized EventBridge rule builds it: the dev push rule's input transformer
 * applied to the event. EventBridge names each execution itself (a fresh UUID per delivery).
 */
function deliveredInput(): unknown {
  const rules = service().template.findResources('AWS::Events::Rule', {
    Properties: { EventPattern: { source: ['aws.ecr'] } },
  });
  const target = (
    Object.values(rules)[0] as {
      Properties: {
        Targets: Array<{ InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string } }>;
      };
    }
  ).Properties.Targets[0];
  if (!target) throw new Error('the push rule has no target');
  return transformInput(target.InputTransformer, pushEvent);
}

const endedIn = (result: { events: { type: string; state?: string }[] }) =>
  result.events.filter((e) => e.type === 'StateEntered').at(-1)?.state;

describe('duplicate ECR deliveries (EventBridge delivers at least once)', () => {
  it('the input transformer passes the EventBridge event id the deliveries are told apart by', () => {
    expect(deliveredInput()).toMatchObject({ trigger: 'ecr-push', environment: 'dev', eventId: sample.id });
  });

  it('two copies at once start one release and record one duplicate, with no alert for the copy', async () => {
    const world = await new ReleaseWorld({ environment: 'dev' }).seed();
    const [a, b] = [`${randomUUID()}`, `${randomUUID()}`];
    const input = deliveredInput();
    const results = await Promise.all([world.run(input, { name: a }), world.run(input, { name: b })]);

    expect(results.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const ends = results.map(endedIn).sort();
    expect(ends).toEqual([STATES.duplicate, STATES.released].sort());
    const first = results.find((r) => endedIn(r) === STATES.released)?.executionName ?? '';
    const copy = first === a ? b : a;

    // release-0 is the seeded first release that verified version 1.
    const releases = (await world.store.listReleases({})).releases;
    expect(releases.map((r) => r.releaseId).sort()).toEqual([first, 'release-0'].sort());
    const delivery = await world.store.recordDelivery(deliveryKey('dev', sample.id), first, 'ignored');
    expect(delivery).toMatchObject({ releaseId: first, duplicates: [copy] });
    // One version published, live on it, no lock, and no "refused" alert for the copy.
    expect(await world.live()).toEqual({ name: 'live', version: '2' });
    expect(world.functions.versionsOf(world.functionName).find((v) => v.description === copy)).toBeUndefined();
    expect(await world.lock()).toBeUndefined();
    expect(world.notifier.sent.map((n) => [n.releaseId, n.outcome])).toEqual([[first, 'released']]);
  });

  it('a late copy after a failed verification publishes nothing and sends no second alert', async () => {
    const world = await new ReleaseWorld({
      environment: 'dev',
      behaviour: { [DIGEST_GREEN]: { healthStatus: 503 } },
    }).seed();
    const input = deliveredInput();
    const first = await world.run(input, { name: 'first-delivery' });
    expect(first.error).toBe('ReleaseFailed');
    const late = await world.run(input, { name: 'late-delivery' });

    expect(late.status).toBe('SUCCEEDED');
    expect(endedIn(late)).toBe(STATES.duplicate);
    expect(late.output).toMatchObject({ duplicate: { Error: 'DuplicateDelivery' } });
    expect(
      world.functions.versionsOf(world.functionName).find((v) => v.description === 'late-delivery'),
    ).toBeUndefined();
    expect(await world.live()).toEqual({ name: 'live', version: '1' });
    expect(await world.lock()).toBeUndefined();
    expect(world.notifier.sent.map((n) => n.outcome)).toEqual(['failed']);
    const record = await world.store.getRelease('first-delivery');
    expect(record?.events.filter((e) => e.kind === 'duplicate-delivery').map((e) => e.evidence)).toEqual([
      { eventId: sample.id, execution: 'late-delivery' },
    ]);
  });
});
