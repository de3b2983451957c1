import { describe, expect, it } from 'vitest';
import { reconcileStoppedExecution } from '../../core/reconcile.ts';
import { startExecution } from '../../local/engine.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { FleetWorld } from './fleet-harness.ts';
import { definition } from './harness.ts';

describe('a fleet release whose process died mid-bake, reconciled on restart', () => {
  it('puts every member back on blue and the record says so: none left baking at 10%', async () => {
    const world = await new FleetWorld().seed();
    const handlers = world.handlers();
    let dead: () => void = () => undefined;
    const killedAtCheck = new Promise<void>((resolve) => {
      dead = resolve;
    });
    // The process dies as wave 1's first check begins: that check never answers, and nothing after it runs.
    const execution = startExecution({
      definition: definition(),
      handlers: {
        ...handlers,
        [STATES.check]: () => {
          dead();
          return new Promise(() => undefined);
        },
      },
      input: world.apiRequest(),
      executionName: 'release-1',
      waitMs: () => 0,
      retryMs: 0,
    });
    await killedAtCheck;
    const before = await world.store.getRelease('release-1');
    expect(before?.targets.members.find((m) => m.name === 'm1')).toMatchObject({ phase: 'baking', percent: 10 });
    expect((await world.memberLive('m1'))?.routing).toEqual({ version: '2', weight: 0.1 });

    const result = await reconcileStoppedExecution(
      { name: 'release-1', executionArn: execution.executionArn, status: 'ABORTED' },
      world.deps,
    );
    execution.abort();

    expect(result.actions.join('; ')).toContain('restored fleet members to their verified versions: m1 → 1');
    expect(await world.memberLive('m1')).toEqual({ name: 'live', version: '1' });
    const record = await world.store.getRelease('release-1');
    expect(record?.status).toBe('aborted');
    expect(record?.targets.members.map((m) => [m.name, m.phase, m.percent])).toEqual([
      ['m1', 'rolled-back', 0],
      ['m2', 'verified', 0],
      ['m3', 'verified', 0],
      ['m4', 'verified', 0],
      ['m5', 'verified', 0],
    ]);
  });
});
