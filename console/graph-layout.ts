import ElkBundled from 'elkjs/lib/elk.bundled.js';
import type { ELK, ElkNode } from 'elkjs/lib/elk-api.js';
import type { AslDefinition } from '../state-machine/synthesize.ts';

export type EdgeKind = 'next' | 'choice' | 'default' | 'catch';

export interface GraphNode {
  readonly name: string;
  readonly type: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** A loop back to a state on the path that led here (the bake loop). */
  readonly back: boolean;
  /** The orthogonal route the layout engine chose, from the source's border to the target's. */
  readonly points: readonly Point[];
  /** SVG path data for `points`. */
  readonly path: string;
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly startAt: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

// elkjs is CommonJS: the module object is the constructor, which its typings call the default export.
const Elk = ElkBundled as unknown as new () => ELK;

const NODE_W = 150;
const NODE_H = 34;

/**
 * ELK's layered algorithm (Sugiyama) with orthogonal edge routing: edges run in the channels between layers and
 * around nodes, never through them; loops are laid out as reversed edges and routed back up the side.
 */
const ELK_OPTIONS: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  // States are given in the order a reader meets them (main path first), so a loop back to an earlier state is the
  // edge turned around, and the main path reads top to bottom.
  'elk.layered.cycleBreaking.strategy': 'MODEL_ORDER',
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
  'elk.layered.spacing.nodeNodeBetweenLayers': '30',
  'elk.layered.spacing.edgeNodeBetweenLayers': '14',
  'elk.spacing.nodeNode': '24',
  'elk.spacing.edgeNode': '14',
  'elk.spacing.edgeEdge': '8',
  'elk.padding': '[top=16,left=16,bottom=16,right=16]',
};

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

/** States in the order a reader meets them: depth first from the start, the main path before the error paths. */
function readingOrder(definition: AslDefinition): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const walk = (name: string) => {
    if (seen.has(name) || !definition.States[name]) return;
    seen.add(name);
    order.push(name);
    const out = transitions(definition.States[name] ?? {});
    for (const t of out) if (t.kind !== 'catch') walk(t.to);
    for (const t of out) if (t.kind === 'catch') walk(t.to);
  };
  for (const name of [definition.StartAt, ...Object.keys(definition.States)]) walk(name);
  return order;
}

/** Edges that close a cycle: they point back to a state on the depth-first path from the start. */
function backEdges(definition: AslDefinition): Set<string> {
  const onStack = new Set<string>();
  const visited = new Set<string>();
  const back = new Set<string>();
  const visit = (name: string) => {
    visited.add(name);
    onStack.add(name);
    for (const t of transitions(definition.States[name] ?? {})) {
      if (!definition.States[t.to]) continue;
      if (onStack.has(t.to)) back.add(`${name}->${t.to}`);
      else if (!visited.has(t.to)) visit(t.to);
    }
    onStack.delete(name);
  };
  visit(definition.StartAt);
  for (const name of Object.keys(definition.States)) if (!visited.has(name)) visit(name);
  return back;
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * A top-to-bottom layout of an ASL state machine, like the Step Functions console's graph, computed by elkjs: node
 * positions and every edge's route, so the page only draws what the layout engine decided.
 */
export async function layoutStateMachine(definition: AslDefinition): Promise<GraphLayout> {
  const names = readingOrder(definition);
  const back = backEdges(definition);
  const edges = names.flatMap((from) =>
    transitions(definition.States[from] ?? {})
      .filter((t) => definition.States[t.to])
      .map((t, i) => ({ id: `e${i}:${from}->${t.to}`, from, ...t })),
  );
  const laid: ElkNode = await new Elk().layout({
    id: 'root',
    layoutOptions: ELK_OPTIONS,
    children: names.map((name) => ({ id: name, width: NODE_W, height: NODE_H })),
    edges: edges.map((e) => ({ id: e.id, sources: [e.from], targets: [e.to] })),
  });
  const nodes: GraphNode[] = (laid.children ?? []).map((n) => ({
    name: n.id,
    type: String(definition.States[n.id]?.Type ?? 'Task'),
    x: round(n.x ?? 0),
    y: round(n.y ?? 0),
    width: n.width ?? NODE_W,
    height: n.height ?? NODE_H,
  }));
  const routes = new Map((laid.edges ?? []).map((e) => [e.id, e.sections?.[0]]));
  return {
    width: Math.ceil(laid.width ?? 0),
    height: Math.ceil(laid.height ?? 0),
    startAt: definition.StartAt,
    nodes,
    edges: edges.map((e) => {
      const section = routes.get(e.id);
      const points = section
        ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map((p) => ({
            x: round(p.x),
            y: round(p.y),
          }))
        : [];
      return {
        from: e.from,
        to: e.to,
        kind: e.kind,
        back: back.has(`${e.from}->${e.to}`),
        points,
        path: points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' '),
      };
    }),
  };
}
