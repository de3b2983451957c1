/**
 * Bundles the API into one ESM file for the container (`index.handler` resolves `index.mjs`) and the local runtime.
 * `npm run build:app` writes the production bundle to dist/app/. Rehearsal builds pass `fault`, which is compiled in
 * through an esbuild `define`; without it the fault code is dropped from the bundle entirely.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build, version as esbuildVersion } from 'esbuild';
import * as z from 'zod';

export const FaultOptionsSchema = z.strictObject({
  failRate: z.number().min(0).max(1).optional(),
  failHealth: z.boolean().optional(),
  latencyMs: z.int().min(0).max(60_000).optional(),
  failAfterRequests: z.int().min(0).max(1_000_000).optional(),
  failAfterMs: z.int().min(0).max(3_600_000).optional(),
  downstreamOutage: z.strictObject({ flagPath: z.string().min(1), failRate: z.number().min(0).max(1) }).optional(),
  /** Only the function of this name misbehaves: one fleet member of several built from the same image. */
  onlyFunction: z.string().min(1).optional(),
});

/** Rehearsal faults a build can carry (app/fault-injection.ts applies them); never in a production build. */
export type FaultOptions = z.infer<typeof FaultOptionsSchema>;

export interface BuildAppOptions {
  /** Full path of the bundle; wins over outDir. */
  readonly outFile?: string;
  /** Directory for `index.mjs` (and its source map). @default <repo>/dist/app */
  readonly outDir?: string;
  /** Compile rehearsal faults in. @default none: a production build */
  readonly fault?: FaultOptions;
}

export interface BuiltApp {
  readonly file: string;
  /** Hex SHA-256 of the bundle bytes. */
  readonly sha256: string;
  /**
   * Every file that shaped it (absolute paths): what esbuild read (its metafile), this build script (banner, define,
   * minify and the other options live here) and the tsconfig.json esbuild follows. A cached copy depends on them all.
   */
  readonly inputs: readonly string[];
}

/** This script itself: a change to its options changes the output as surely as a change to the sources. */
const BUILD_SCRIPT = fileURLToPath(import.meta.url);

const appDir = dirname(fileURLToPath(import.meta.url));
const TSCONFIG = resolve(appDir, '..', 'tsconfig.json');

/**
 * What shapes a build besides its input files: the esbuild version and the rehearsal faults. A cache of builds keys
 * on this and on the hash of every file in `BuiltApp.inputs`.
 */
export function buildKey(fault: FaultOptions | undefined): string {
  return JSON.stringify({ esbuild: esbuildVersion, fault: fault ?? null });
}

export const DEFAULT_OUT_DIR = resolve(appDir, '..', 'dist', 'app');
export const BUNDLE_NAME = 'index.mjs';

export async function buildApp(options: BuildAppOptions = {}): Promise<BuiltApp> {
  const fault = options.fault === undefined ? undefined : FaultOptionsSchema.parse(options.fault);
  const file = resolve(options.outFile ?? join(options.outDir ?? DEFAULT_OUT_DIR, BUNDLE_NAME));
  await mkdir(dirname(file), { recursive: true });
  const result = await build({
    entryPoints: [join(appDir, 'index.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    mainFields: ['module', 'main'],
    define: { __SWITCHYARD_FAULT__: fault ? JSON.stringify(fault) : 'false' },
    // Some CommonJS dependencies (the X-Ray SDK) call require() at run time; ESM has no require of its own.
    banner: {
      js: "import{createRequire as __switchyardCreateRequire}from'node:module';const require=__switchyardCreateRequire(import.meta.url);",
    },
  });
  const bytes = await readFile(file);
  // esbuild names inputs relative to its working directory.
  const inputs = [...Object.keys(result.metafile.inputs).map((input) => resolve(input)), BUILD_SCRIPT, TSCONFIG];
  return { file, sha256: createHash('sha256').update(bytes).digest('hex'), inputs };
}

/** `node app/build.ts [--out-dir DIR] [--fail-rate 0.2] [--fail-health] [--latency-ms 500]` */
export async function runBuildCli(args: string[]): Promise<Omit<BuiltApp, 'inputs'> & { readonly fault: boolean }> {
  const { values } = parseArgs({
    args,
    options: {
      'out-dir': { type: 'string' },
      'fail-rate': { type: 'string' },
      'fail-health': { type: 'boolean' },
      'latency-ms': { type: 'string' },
    },
  });
  const faulty = values['fail-rate'] !== undefined || values['fail-health'] || values['latency-ms'] !== undefined;
  const built = await buildApp({
    outDir: values['out-dir'],
    fault: faulty
      ? {
          failRate: values['fail-rate'] === undefined ? undefined : Number(values['fail-rate']),
          failHealth: values['fail-health'],
          latencyMs: values['latency-ms'] === undefined ? undefined : Number(values['latency-ms']),
        }
      : undefined,
  });
  return { file: built.file, sha256: built.sha256, fault: !!faulty };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(JSON.stringify(await runBuildCli(process.argv.slice(2))));
}
