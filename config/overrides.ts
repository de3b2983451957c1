import * as z from 'zod';
import { environments as defaultEnvironments } from './environments.ts';
import { AlarmNameSchema, ENVIRONMENT_NAMES, type Environments, InvalidConfig, parseEnvironments } from './schema.ts';

/**
 * Per-environment names that point Switchyard at functions it did not create ("bring your own function"), merged
 * over config/environments.ts. `cdk deploy -c switchyard:environmentOverrides=<file>` reads them at synth; the stack
 * hands the same JSON to every handler in `ENVIRONMENT_OVERRIDES_VARIABLE`, which applies it at cold start.
 */
export const ENVIRONMENT_OVERRIDES_VARIABLE = 'SWITCHYARD_ENVIRONMENT_OVERRIDES';

/** The overrides' schema, built at first use (a handler without overrides never builds it; docs/speed.md). */
function buildOverridesSchema() {
  const nonEmpty = z.string().min(1, 'must not be empty');

  /**
   * Lambda's alias names: 1 to 128 characters of `[a-zA-Z0-9-_]`, not all digits (CreateAlias `Name`, pattern
   * `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`, https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html). The config's
   * own schema then also asks for a leading letter.
   */
  const LambdaAliasName = z
    .string()
    .min(1, 'must not be empty')
    .max(128, 'must be at most 128 characters (Lambda alias names)')
    .regex(/^[a-zA-Z0-9_-]+$/, 'may hold only letters, digits, "-" and "_" (Lambda alias names)')
    .refine((name) => !/^[0-9]+$/.test(name), 'must not be all digits: Lambda reserves those for versions');

  const EnvironmentOverrideSchema = z.strictObject({
    functionName: nonEmpty.optional(),
    repositoryName: nonEmpty.optional(),
    aliases: z
      .strictObject({
        live: LambdaAliasName.optional(),
        green: LambdaAliasName.optional(),
        blue: LambdaAliasName.optional(),
      })
      .optional(),
    /** Terraform's `green_stage_url` output of the function's API, or your own API's green stage. */
    greenStageUrl: nonEmpty.optional(),
    /** CloudWatch alarms Check health watches; the defaults are named after the shipped function. */
    alarms: z.array(AlarmNameSchema).optional(),
    /**
     * The release stage applies this repository's Terraform (infra/terraform/environments/<env>.tfvars.json, generated
     * from config/environments.ts, not from overrides): turn it off for a function Terraform here does not manage.
     */
    scanAndProvision: z.boolean().optional(),
  });

  const unknownEnvironment = (keys: readonly string[]) =>
    `unknown environment ${keys.map((k) => `"${k}"`).join(', ')}; expected one of: ${ENVIRONMENT_NAMES.join(', ')}`;

  return z.strictObject(
    Object.fromEntries(ENVIRONMENT_NAMES.map((name) => [name, EnvironmentOverrideSchema.optional()])) as Record<
      (typeof ENVIRONMENT_NAMES)[number],
      z.ZodOptional<typeof EnvironmentOverrideSchema>
    >,
    { error: (issue) => (issue.code === 'unrecognized_keys' ? unknownEnvironment(issue.keys) : undefined) },
  );
}
let overridesSchema: ReturnType<typeof buildOverridesSchema> | undefined;

export type EnvironmentOverrides = z.infer<ReturnType<typeof buildOverridesSchema>>;
export type EnvironmentOverride = NonNullable<EnvironmentOverrides[keyof EnvironmentOverrides]>;

/** Validates overrides (from a file, a context value or the handlers' variable), naming every offending field. */
export function parseEnvironmentOverrides(raw: unknown, source: string): EnvironmentOverrides {
  overridesSchema ??= buildOverridesSchema();
  // Parsed once per process: zod's JIT would cost more than it saves (see parseEnvironments).
  const parsed = overridesSchema.safeParse(raw, { jitless: true });
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new InvalidConfig(`invalid environment overrides in ${source}: ${fields.join('; ')}`);
  }
  return parsed.data;
}

/** The same, from JSON text. */
export function environmentOverridesFromJson(text: string, source: string): EnvironmentOverrides {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidConfig(`invalid environment overrides in ${source}: not JSON (${(error as Error).message})`);
  }
  return parseEnvironmentOverrides(raw, source);
}

/** The environments with the overrides merged in, validated again by the config's own schema. */
export function applyEnvironmentOverrides(base: Environments, overrides: EnvironmentOverrides): Environments {
  const merged = structuredClone(base);
  for (const name of ENVIRONMENT_NAMES) {
    const override = overrides[name];
    if (!override) continue;
    const env = merged[name];
    if (!env) throw new InvalidConfig(`invalid environment overrides: ${name}: this environment is not configured`);
    merged[name] = {
      ...env,
      ...(override.functionName === undefined ? {} : { functionName: override.functionName }),
      ...(override.repositoryName === undefined ? {} : { repositoryName: override.repositoryName }),
      aliases: { ...env.aliases, ...override.aliases },
      verification: {
        ...env.verification,
        ...(override.greenStageUrl === undefined ? {} : { greenStageUrl: override.greenStageUrl }),
      },
      health: { ...env.health, ...(override.alarms === undefined ? {} : { alarms: override.alarms }) },
      ...(override.scanAndProvision === undefined ? {} : { scanAndProvision: override.scanAndProvision }),
    };
  }
  return parseEnvironments(merged);
}

/**
 * The one repository the environments release from: the stack creates a single ECR repository, so overrides that
 * leave environments on different repositories are refused.
 */
export function sharedRepositoryName(envs: Environments): string {
  const names = [...new Set(Object.values(envs).map((e) => e.repositoryName))];
  const [name] = names;
  if (name === undefined || names.length !== 1) {
    throw new InvalidConfig(
      `invalid environment overrides: repositoryName: every environment must use the same repository (one ECR repository feeds them all); got ${names.join(', ')}`,
    );
  }
  return name;
}

type Variables = Readonly<Record<string, string | undefined>>;

/** The environments a deployed handler releases into: the defaults, with the stack's overrides if it set any. */
export function environmentsFromVariables(variables: Variables): Environments {
  const value = variables[ENVIRONMENT_OVERRIDES_VARIABLE];
  if (value === undefined || value === '') return defaultEnvironments;
  return applyEnvironmentOverrides(
    defaultEnvironments,
    environmentOverridesFromJson(value, `environment variable ${ENVIRONMENT_OVERRIDES_VARIABLE}`),
  );
}
