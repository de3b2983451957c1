import type { AslDefinition } from '../state-machine/synthesize.ts';

export type EdgeKind = 'next' | 'choice' | 'default' | 'catch';

export interface GraphNode {
  readonly name: string;
  readonly type: string;
  readonly layer: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** A loop back to an earlier layer (the bake loop), drawn around the side. */
  readonly back: boolean;
  /** SVG path data. */
  readonly path: string;
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly startAt: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

const NODE_W = 150;
const NODE_H = 34;
const GAP_X = 30;
const GAP_Y = 36;
const MARGIN = 20;
const LOOP_GAP = 16;

/** The transitions out of a state, in the order the console lists them. */
export function transitions(state: Record<string, unknown>): { to: string; kind: EdgeKind }[] {
  const out: { to: string; kind: EdgeKind }[] = [];
  if (typeof state.Next === 'string') out.push({ to: state.Next, kind: 'next' });
  if (Array.isArray(state.Choices)) {
    for (const choice of state.Choices as Array<{ Next?: unknown }>) {
      if (typeof choice.Next === 'string') out.push({ to: choice.Next, kind: 'choice' });
    }
  }
  if (typeof state.Default === 'string') out.push({ to: state.Default, kind: 'default' });
  if (Array.isArray(state.Catch)) {
    for (const c of state.Catch as Array<{ Next?: unknown }>) {
      if (typeof c.Next === 'string') out.push({ to: c.Next, kind: 'catch' });
    }
  }
  const seen = new Set<string>();
  return out.filter((t) => {
    const key = `${t.to}|${t.kind === 'catch' ? 'catch' : 'flow'}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A layered top-to-bottom layout of an ASL state machine, like the Step Functions console's graph: each state
 * sits one layer below the longest path that reaches it; loops (edges back to a state on the current path)
 * are drawn around the right-hand side.
 */
export function layoutStateMachine(definition: AslDefinition): GraphLayout {
  const names = Object.keys(definition.States);
  const order: string[] = [];
  const onStack = new Set<string>();
  const visited = new Set<string>();
  const backEdges = new Set<string>();
  const visit = (name: string) => {
    visited.add(name);
    onStack.add(name);
    for (const t of transitions(definition.States[name] ?? {})) {
      if (!definition.States[t.to]) continue;
      if (onStack.has(t.to)) backEdges.add(`${name}->${t.to}`);
      else if (!visited.has(t.to)) visit(t.to);
    }
    onStack.delete(name);
    order.push(name);
  };
  visit(definition.StartAt);
  for (const name of names) if (!visited.has(name)) visit(name);
  const topo = order.reverse();

  const layer = new Map<string, number>(topo.map((n) => [n, 0]));
  for (const name of topo) {
    for (const t of transitions(definition.States[name] ?? {})) {
      if (backEdges.has(`${name}->${t.to}`) || !layer.has(t.to)) continue;
      layer.set(t.to, Math.max(layer.get(t.to) ?? 0, (layer.get(name) ?? 0) + 1));
    }
  }
  // Discovery order (depth first, main path first) keeps the happy path in the first column.
  const discovery: string[] = [];
  const seen = new Set<string>();
  const queue = [definition.StartAt, ...names];
  const walk = (name: string) => {
    if (seen.has(name) || !definition.States[name]) return;
    seen.add(name);
    discovery.push(name);
    for (const t of transitions(definition.States[name] ?? {})) if (t.kind !== 'catch') walk(t.to);
    for (const t of transitions(definition.States[name] ?? {})) if (t.kind === 'catch') walk(t.to);
  };
  for (const name of queue) walk(name);

  const layers: string[][] = [];
  for (const name of discovery) {
    const l = layer.get(name) ?? 0;
    const row = layers[l] ?? [];
    row.push(name);
    layers[l] = row;
  }
  const widest = Math.max(...layers.map((l) => l?.length ?? 0));
  const innerWidth = widest * NODE_W + (widest - 1) * GAP_X;
  const nodes = new Map<string, GraphNode>();
  layers.forEach((members, l) => {
    const rowWidth = members.length * NODE_W + (members.length - 1) * GAP_X;
    const left = MARGIN + (innerWidth - rowWidth) / 2;
    members.forEach((name, i) => {
      nodes.set(name, {
        name,
        type: String(definition.States[name]?.Type ?? 'Task'),
        layer: l,
        x: Math.round(left + i * (NODE_W + GAP_X)),
        y: MARGIN + l * (NODE_H + GAP_Y),
        width: NODE_W,
        height: NODE_H,
      });
    });
  });

  const edges: GraphEdge[] = [];
  let loops = 0;
  for (const from of names) {
    const a = nodes.get(from);
    if (!a) continue;
    for (const t of transitions(definition.States[from] ?? {})) {
      const b = nodes.get(t.to);
      if (!b) continue;
      const back = backEdges.has(`${from}->${t.to}`) || b.layer <= a.layer;
      let path: string;
      if (back) {
        loops++;
        const side = MARGIN + innerWidth + LOOP_GAP * loops;
        const y1 = a.y + a.height / 2;
        const y2 = b.y + b.height / 2;
        path = `M ${a.x + a.width} ${y1} H ${side} V ${y2} H ${b.x + b.width}`;
      } else {
        const x1 = a.x + a.width / 2;
        const y1 = a.y + a.height;
        const x2 = b.x + b.width / 2;
        const y2 = b.y;
        const mid = y1 + GAP_Y / 2;
        path =
          b.layer === a.layer + 1
            ? `M ${x1} ${y1} C ${x1} ${mid} ${x2} ${mid} ${x2} ${y2}`
            : `M ${x1} ${y1} C ${x1} ${y1 + GAP_Y} ${x2} ${y2 - GAP_Y} ${x2} ${y2}`;
      }
      edges.push({ from, to: t.to, kind: t.kind, back, path });
    }
  }
  return {
    width: MARGIN * 2 + innerWidth + LOOP_GAP * (loops + 1),
    height: MARGIN * 2 + layers.length * NODE_H + (layers.length - 1) * GAP_Y,
    startAt: definition.StartAt,
    nodes: [...nodes.values()],
    edges,
  };
}
