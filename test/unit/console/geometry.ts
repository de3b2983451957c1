import type { Point } from '../../../console/graph-layout.ts';

export type Box = { x: number; y: number; width: number; height: number };

/** Whether an axis-aligned segment passes through the inside of a box (touching its border does not count). */
export function segmentCrossesBox(a: Point, b: Point, box: Box): boolean {
  const inset = 1;
  const left = box.x + inset;
  const right = box.x + box.width - inset;
  const top = box.y + inset;
  const bottom = box.y + box.height - inset;
  const [x1, x2] = [Math.min(a.x, b.x), Math.max(a.x, b.x)];
  const [y1, y2] = [Math.min(a.y, b.y), Math.max(a.y, b.y)];
  return x2 > left && x1 < right && y2 > top && y1 < bottom;
}

/** Every (edge, box) pair where an edge runs through a state that is neither its source nor its target. */
export function crossings(layout: {
  nodes: readonly (Box & { name: string })[];
  edges: readonly { from: string; to: string; points: readonly Point[] }[];
}): string[] {
  const found: string[] = [];
  for (const edge of layout.edges) {
    for (const node of layout.nodes) {
      if (node.name === edge.from || node.name === edge.to) continue;
      for (let i = 1; i < edge.points.length; i++) {
        const [a, b] = [edge.points[i - 1], edge.points[i]];
        if (a && b && segmentCrossesBox(a, b, node)) found.push(`${edge.from} → ${edge.to} crosses ${node.name}`);
      }
    }
  }
  return found;
}
