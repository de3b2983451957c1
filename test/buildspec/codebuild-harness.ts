import { spawnSync } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import * as z from 'zod';
import { REPOSITORY_ROOT } from '../../scripts/generate-tfvars.ts';

const PhaseSchema = z.strictObject({
  'on-failure': z.enum(['ABORT', 'CONTINUE']).optional(),
  'runtime-versions': z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  commands: z.array(z.string()),
  finally: z.array(z.string()).optional(),
});

/** The subset of the CodeBuild buildspec 0.2 format this project uses, parsed strictly. */
export const BuildspecSchema = z.strictObject({
  version: z.literal(0.2),
  env: z.strictObject({
    shell: z.literal('bash'),
    variables: z.record(z.string(), z.string()),
    'exported-variables': z.array(z.string()),
  }),
  phases: z.strictObject({
    install: PhaseSchema,
    pre_build: PhaseSchema,
    build: PhaseSchema,
    post_build: PhaseSchema.optional(),
  }),
  reports: z.record(
    z.string(),
    z.strictObject({
      'base-directory': z.string(),
      files: z.array(z.string()),
      'file-format': z.enum([
        'JUNITXML',
        'CUCUMBERJSON',
        'TESTNGXML',
        'VISUALSTUDIOTRX',
        'NUNITXML',
        'NUNIT3XML',
        'COBERTURAXML',
        'CLOVERXML',
        'JACOCOXML',
        'SIMPLECOV',
      ]),
    }),
  ),
  artifacts: z.strictObject({ 'base-directory': z.string(), files: z.array(z.string()) }),
  cache: z.strictObject({ paths: z.array(z.string()) }),
});
export type Buildspec = z.infer<typeof BuildspecSchema>;

export async function loadBuildspec(): Promise<Buildspec> {
  return BuildspecSchema.parse(parse(await readFile(join(REPOSITORY_ROOT, 'buildspec.yml'), 'utf8')));
}

/** Commands in the order CodeBuild runs them. */
export function allCommands(spec: Buildspec): string[] {
  const { install, pre_build, build, post_build } = spec.phases;
  return [install, pre_build, build, post_build].flatMap((phase) => phase?.commands ?? []);
}

/** The executables the buildspec reaches outside the shell; each is replaced by a stub that logs its call. */
const STUBBED = ['aws', 'curl', 'docker', 'npm', 'npx', 'sha256sum', 'tar', 'terraform', 'trivy', 'unzip'];

/** One stub for all of them, dispatching on its own name (see the script's comments). */
const STUB_PATH = join(REPOSITORY_ROOT, 'test', 'buildspec', 'stub-command.sh');

export interface StageRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Each stubbed call as `<executable> <args>`, in order. */
  readonly calls: string[];
  /** Files the run left under its `out/` directory, relative to it, with their contents. */
  readonly artifacts: Record<string, string>;
  /** IMAGE_DIGEST and IMAGE_URI as the shell held them at the end (CodeBuild's exported variables). */
  readonly exported: Record<string, string>;
}

export const PUSHED_DIGEST = `sha256:${'ab'.repeat(32)}`;

/**
 * Runs every command of the buildspec like CodeBuild 0.2 does (one bash, phase order, first failure ends the build),
 * in an empty source directory, with AWS, Docker, npm, Trivy, Terraform and the downloads replaced by logging stubs.
 */
export async function runStage(
  spec: Buildspec,
  env: Record<string, string>,
  options: {
    /** A build cache kept between runs, as CodeBuild's local cache is on one build host. @default a fresh one */
    cacheDir?: string;
    /** S3 kept between runs (`s3://<bucket>/<key>` is `<s3Dir>/<bucket>/<key>`). @default a fresh, empty one */
    s3Dir?: string;
    /** The committed `.trivyignore.yaml`. @default an empty list */
    trivyignore?: string;
    /**
     * A directory (a git repository) copied in as the source, and the repository's own scripts run for real
     * (`npx tsx scripts/…`). @default an empty source, where those scripts only log their call
     */
    source?: string;
  } = {},
): Promise<StageRun> {
  const work = await mkdtemp(join(tmpdir(), 'switchyard-codebuild-'));
  try {
    const src = join(work, 'src');
    const bin = join(work, 'bin');
    const state = join(work, 'state');
    if (options.source) await cp(options.source, src, { recursive: true });
    await Promise.all([mkdir(bin), mkdir(state), mkdir(join(src, 'app'), { recursive: true })]);
    await mkdir(join(src, 'infra', 'terraform', 'root'), { recursive: true });
    await writeFile(join(src, '.trivyignore.yaml'), options.trivyignore ?? 'vulnerabilities: []\n');
    const stub = await readFile(STUB_PATH, 'utf8');
    for (const name of STUBBED) {
      await writeFile(join(bin, name), stub);
      await chmod(join(bin, name), 0o755);
    }
    const commands = allCommands(spec);
    // Sourced, so exports carry over from one command to the next as in CodeBuild's single shell.
    const driver = commands.map((command, i) => {
      const file = join(work, `command-${i}.sh`);
      return { file, command, line: `source ${file} || { echo "BUILD FAILED at command ${i}" >&2; exit 1; }` };
    });
    for (const { file, command } of driver) {
      await writeFile(file, command);
    }
    const exportedFile = join(work, 'exported.env');
    const script = [
      ...driver.map((d) => d.line),
      `printf 'IMAGE_DIGEST=%s\\nIMAGE_URI=%s\\n' "\${IMAGE_DIGEST:-}" "\${IMAGE_URI:-}" > ${exportedFile}`,
    ].join('\n');
    const result = spawnSync('bash', ['-c', script], {
      cwd: src,
      encoding: 'utf8',
      env: {
        PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        HOME: work,
        TMPDIR: work,
        AWS_REGION: 'eu-west-1',
        CODEBUILD_SRC_DIR: src,
        CODEBUILD_BUILD_ID: 'switchyard:test',
        STUB_LOG: join(work, 'calls.log'),
        STUB_SELF: STUB_PATH,
        STUB_STATE: state,
        STUB_PUSHED_DIGEST: PUSHED_DIGEST,
        STUB_REPO_ROOT: REPOSITORY_ROOT,
        ...(options.source ? { STUB_REAL_SCRIPTS: '1' } : {}),
        STUB_S3_DIR: options.s3Dir ?? join(work, 's3'),
        ...spec.env.variables,
        TRIVY_CACHE_DIR: join(options.cacheDir ?? join(work, 'cache'), 'trivy'),
        TF_PLUGIN_CACHE_DIR: join(options.cacheDir ?? join(work, 'cache'), 'terraform-plugins'),
        TERRAFORM_CACHE_DIR: join(options.cacheDir ?? join(work, 'cache'), 'terraform'),
        npm_config_cache: join(options.cacheDir ?? join(work, 'cache'), 'npm'),
        ...env,
      },
      timeout: 30_000,
    });
    const calls = (await readFile(join(work, 'calls.log'), 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line.length > 0);
    const artifacts = await readTree(join(src, 'out'));
    const exported = Object.fromEntries(
      (await readFile(exportedFile, 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, calls, artifacts, exported };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function readTree(dir: string, prefix = ''): Promise<Record<string, string>> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: Record<string, string> = {};
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const key = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      Object.assign(files, await readTree(path, key));
    } else {
      files[key] = await readFile(path, 'utf8');
    }
  }
  return files;
}
