import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The source folders from the bottom layer up. A file may import its own layer and any layer below it, never one
 * above or beside it. Read from the code:
 * - `config` (the validated environments), `app` (the workload, whose signing code the smoke-test adapters share)
 *   and `logging` (the service's Powertools logger) import nothing of the project;
 * - `core` holds the release logic and its ports (the `ReleaseOperations` port among them); `state-machine` the
 *   workflow (it names core's errors);
 * - `contract` is the deploy/run contract: grants, entries and variables over core's port types and the state names,
 *   and the release table's layout;
 * - `handlers` shape core functions into Task handlers; `api` is the HTTP layer over core's `ReleaseOperations` port;
 * - `adapters` implement core's ports;
 * - `infra` is the CDK app (it reads the contract, the table's layout included);
 * - `console` lays out the synthesized graph; `local` runs that synthesized definition on one machine;
 * - `wiring` holds the composition roots, which build ports from adapters and the local stand-ins;
 * - the entry points sit on top: the Lambda entries (`entries/`), the CLI and the scripts; the benchmark above them, since it
 *   measures what a script builds (the handler bundles).
 */
const LAYERS: readonly (readonly string[])[] = [
  ['config', 'app', 'logging'],
  ['core'],
  ['state-machine'],
  ['contract'],
  ['handlers'],
  ['api'],
  ['adapters'],
  ['infra'],
  ['console'],
  ['local'],
  ['wiring'],
  ['entries', 'cli', 'scripts'],
  ['bench'],
];

/** Folders with no layer: the tests (which may import anything) and ambient type declarations. */
const OUTSIDE_LAYERS = ['test', 'types'];

/** The layer a repository path belongs to: its longest declared folder prefix, or undefined. */
function layerOf(path: string): string | undefined {
  const candidates = LAYERS.flat().filter((layer) => path === layer || path.startsWith(`${layer}/`));
  return candidates.sort((a, b) => b.length - a.length)[0];
}

function rank(layer: string): number {
  return LAYERS.findIndex((row) => row.includes(layer));
}

/**
 * The project files `source` imports, as repository paths: every `import`, `import type`, `export … from`, dynamic
 * `import()` and `require()`, as the TypeScript compiler's own pre-processor reads them. Packages are left out.
 */
function importsOf(file: string, source: string): string[] {
  const { importedFiles } = ts.preProcessFile(source, true, true);
  return importedFiles
    .map((ref) => ref.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => normalize(join(dirname(file), name)));
}

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly why: string;
}

/** Imports that go up a layer or sideways to another layer of the same rank. */
function upwardImports(graph: ReadonlyMap<string, readonly string[]>): Violation[] {
  const violations: Violation[] = [];
  for (const [from, targets] of graph) {
    const own = layerOf(from);
    if (!own) continue;
    for (const to of targets) {
      const other = layerOf(to);
      if (!other || other === own) continue;
      if (rank(other) > rank(own)) violations.push({ from, to, why: `${own} may not import ${other}, a layer above` });
      else if (rank(other) === rank(own))
        violations.push({ from, to, why: `${own} may not import ${other}, beside it` });
    }
  }
  return violations;
}

/** Pairs of layers that import each other, whatever their order. */
function mutualLayers(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const edges = new Set<string>();
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const a = layerOf(from);
      const b = layerOf(to);
      if (a && b && a !== b) edges.add(`${a} -> ${b}`);
    }
  }
  return [...edges]
    .map((edge) => edge.split(' -> ') as [string, string])
    .filter(([a, b]) => a < b && edges.has(`${b} -> ${a}`))
    .map(([a, b]) => `${a} <-> ${b}`);
}

function sourceFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '*.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .filter((file) => !OUTSIDE_LAYERS.some((folder) => file.startsWith(`${folder}/`)))
    .filter((file) => file.includes('/'));
}

function importGraph(): Map<string, string[]> {
  return new Map(sourceFiles().map((file) => [file, importsOf(file, readFileSync(join(ROOT, file), 'utf8'))]));
}

describe('the dependency rule', () => {
  it('reads every kind of import, type-only and dynamic ones included', () => {
    const source = [
      "import { a } from '../core/a.ts';",
      "import type { B } from '../adapters/b.ts';",
      "import { type C, d } from './c.ts';",
      "export { e } from '../api/e.ts';",
      "export type { F } from '../local/f.ts';",
      "const g = await import('../wiring/g.ts');",
      "import { z } from 'zod';",
    ].join('\n');
    expect(importsOf('handlers/x.ts', source)).toEqual([
      'core/a.ts',
      'adapters/b.ts',
      'handlers/c.ts',
      'api/e.ts',
      'local/f.ts',
      'wiring/g.ts',
    ]);
  });

  it('refuses an upward import, a sideways one and two layers that import each other', () => {
    const graph = new Map([
      ['core/steps/check-health.ts', ['adapters/aws/cloudwatch-version-metrics.ts', 'config/schema.ts']],
      ['api/release-api.ts', ['local/engine.ts']],
      ['local/engine.ts', ['api/release-operations.ts']],
      ['cli/program.ts', ['bench/run.ts']],
      ['entries/finalize.ts', ['wiring/aws.ts']],
    ]);
    expect(upwardImports(graph).map((v) => `${v.from} -> ${v.to}`)).toEqual([
      'core/steps/check-health.ts -> adapters/aws/cloudwatch-version-metrics.ts',
      'api/release-api.ts -> local/engine.ts',
      'cli/program.ts -> bench/run.ts',
    ]);
    expect(mutualLayers(graph)).toEqual(['api <-> local']);
  });

  it('places every source folder in a layer', () => {
    const unplaced = [
      ...new Set(
        sourceFiles()
          .filter((file) => !layerOf(file))
          .map((file) => file.split('/')[0]),
      ),
    ];
    expect(unplaced, 'add the folder to LAYERS in test/repository/dependency-rule.test.ts').toEqual([]);
  });

  it('holds for the real import graph: no folder imports one above it, and no two folders import each other', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(100);
    expect(upwardImports(graph).map((v) => `${v.from} -> ${v.to}: ${v.why}`)).toEqual([]);
    expect(mutualLayers(graph)).toEqual([]);
  });
});
