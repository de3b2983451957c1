/**
 * `npm run build`: bundles every Lambda entry in entries/ the way `cdk deploy` does (HANDLER_BUNDLING,
 * with the locally installed esbuild) into dist/handlers/<name>/index.mjs, and prints each bundle's size with the
 * packages that weigh most in it (from esbuild's metafile).
 * Usage: tsx scripts/build-handlers.ts [--out DIR]
 */
import { globSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { HANDLER_BUNDLING, PROJECT_ROOT } from '../infra/switchyard-function.ts';

export interface BuiltHandler {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  /** Bytes in the output by package (`zod`, `@aws-lambda-powertools/logger`, …; `(project)` for our own code). */
  readonly packages: Readonly<Record<string, number>>;
  /** The bundled input modules, as esbuild's metafile names them (paths relative to the repository). */
  readonly inputs: readonly string[];
}

/** The package a bundled input path belongs to: the last `node_modules/<name>` or `<@scope/name>` in it. */
export function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return '(project)';
  const [first = '', second = ''] = input.slice(at + 'node_modules/'.length).split('/');
  return first.startsWith('@') ? `${first}/${second}` : first;
}

/** Bundles each entry (@default every file in entries/) into `outDir/<name>/index.mjs`. */
export async function buildHandlers(
  outDir: string,
  entries: readonly string[] = globSync('entries/*.ts', { cwd: PROJECT_ROOT }).sort(),
): Promise<BuiltHandler[]> {
  rmSync(outDir, { recursive: true, force: true });
  const built: BuiltHandler[] = [];
  for (const entry of entries) {
    const name = basename(entry, '.ts');
    const file = join(outDir, name, 'index.mjs');
    mkdirSync(join(outDir, name), { recursive: true });
    const result = await build({
      entryPoints: [join(PROJECT_ROOT, entry)],
      outfile: file,
      bundle: true,
      platform: 'node',
      format: HANDLER_BUNDLING.format,
      target: HANDLER_BUNDLING.target,
      minify: HANDLER_BUNDLING.minify,
      sourcemap: HANDLER_BUNDLING.sourceMap,
      sourcesContent: HANDLER_BUNDLING.sourcesContent,
      mainFields: [...HANDLER_BUNDLING.mainFields],
      external: [...HANDLER_BUNDLING.externalModules],
      banner: { js: HANDLER_BUNDLING.banner },
      logLevel: 'warning',
      metafile: true,
    });
    const output = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('index.mjs'))?.[1];
    const packages: Record<string, number> = {};
    for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
      packages[packageOf(input)] = (packages[packageOf(input)] ?? 0) + bytesInOutput;
    }
    built.push({ name, file, bytes: statSync(file).size, packages, inputs: Object.keys(output?.inputs ?? {}) });
  }
  return built;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: join(PROJECT_ROOT, 'dist', 'handlers') } },
  });
  const built = await buildHandlers(String(values.out));
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0).padStart(5)} KB`;
  for (const b of built) {
    const heaviest = Object.entries(b.packages)
      .sort(([, x], [, y]) => y - x)
      .slice(0, 4)
      .map(([pkg, bytes]) => `${pkg} ${(bytes / 1024).toFixed(0)}`)
      .join(', ');
    console.log(`${b.name.padEnd(18)} ${kb(b.bytes)}  ${b.file}  (KB: ${heaviest})`);
  }
}
