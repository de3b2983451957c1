import { describe, expect, it } from 'vitest';
import { layoutStateMachine } from '../../../console/graph-layout.ts';
import { synthesizeServiceDefinition } from '../../../infra/service-definition.ts';
import { crossings, segmentCrossesBox } from './geometry.ts';

describe('the console graph layout (elkjs)', () => {
  it('routes every edge of the release state machine around the states it does not connect', async () => {
    const layout = await layoutStateMachine(synthesizeServiceDefinition());
    expect(layout.nodes.length).toBeGreaterThan(15);
    expect(layout.edges.every((e) => e.points.length >= 2)).toBe(true);
    expect(crossings(layout)).toEqual([]);
  });

  it('draws the bake loop as edges back up to Bake and Shift traffic, and the main path top to bottom', async () => {
    const layout = await layoutStateMachine(synthesizeServiceDefinition());
    const y = (name: string) => layout.nodes.find((n) => n.name === name)?.y ?? Number.NaN;
    const path = ['Receive request', 'Validate release', 'Deploy & verify', 'Shift traffic', 'Bake'];
    for (let i = 1; i < path.length; i++) expect(y(path[i] ?? '')).toBeGreaterThan(y(path[i - 1] ?? ''));
    expect(y('Check health')).toBeGreaterThan(y('Bake'));
    expect(y('Healthy?')).toBeGreaterThan(y('Check health'));
    const loops = layout.edges.filter((e) => e.back).map((e) => `${e.from} → ${e.to}`);
    expect(loops.sort()).toEqual([
      'Await release window → Validate release',
      'Healthy? → Bake',
      'Healthy? → Shift traffic',
    ]);
    for (const edge of layout.edges.filter((e) => e.back)) {
      // A loop leaves the top of Healthy? and ends at the bottom of the earlier state.
      expect(edge.points.at(-1)?.y).toBeLessThan(edge.points[0]?.y ?? 0);
    }
  });

  it('the crossing check itself catches an edge drawn through a box', () => {
    const box = { x: 0, y: 0, width: 100, height: 30 };
    expect(segmentCrossesBox({ x: 50, y: -10 }, { x: 50, y: 40 }, box)).toBe(true);
    expect(segmentCrossesBox({ x: 100, y: -10 }, { x: 100, y: 40 }, box)).toBe(false);
    expect(segmentCrossesBox({ x: -10, y: 15 }, { x: 5, y: 15 }, box)).toBe(true);
  });
});
