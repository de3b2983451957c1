/**
 * `npm run build`: bundles every Lambda entry in handlers/lambda/ the way `cdk deploy` does (HANDLER_BUNDLING,
 * with the locally installed esbuild) into dist/handlers/<name>/index.mjs, and prints each bundle's size.
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
}

/** Bundles each entry (@default every file in handlers/lambda/) into `outDir/<name>/index.mjs`. */
export async function buildHandlers(
  outDir: string,
  entries: readonly string[] = globSync('handlers/lambda/*.ts', { cwd: PROJECT_ROOT }).sort(),
): Promise<BuiltHandler[]> {
  rmSync(outDir, { recursive: true, force: true });
  const built: BuiltHandler[] = [];
  for (const entry of entries) {
    const name = basename(entry, '.ts');
    const file = join(outDir, name, 'index.mjs');
    mkdirSync(join(outDir, name), { recursive: true });
    await build({
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
    });
    built.push({ name, file, bytes: statSync(file).size });
  }
  return built;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: join(PROJECT_ROOT, 'dist', 'handlers') } },
  });
  const built = await buildHandlers(String(values.out));
  for (const b of built) console.log(`${b.name.padEnd(18)} ${(b.bytes / 1024).toFixed(0).padStart(5)} KB  ${b.file}`);
}
