import { environments } from '../../config/environments.ts';
import type { EnvironmentConfig, EnvironmentName, Environments } from '../../config/schema.ts';
import { parseEnvironments } from '../../config/schema.ts';

type EnvPatch = Partial<Omit<EnvironmentConfig, 'health' | 'bake'>> & {
  health?: Partial<EnvironmentConfig['health']>;
  bake?: Partial<EnvironmentConfig['bake']>;
};

/** The real environment config with one environment changed, validated like the real one. */
export function environmentsWith(name: EnvironmentName, patch: EnvPatch): Environments {
  const base = structuredClone(environments);
  const env = base[name];
  if (!env) throw new Error(`no environment ${name}`);
  base[name] = {
    ...env,
    ...patch,
    health: { ...env.health, ...patch.health },
    bake: { ...env.bake, ...patch.bake },
  } as EnvironmentConfig;
  return parseEnvironments(base);
}

/** A bake on the 1-minute path alone: checks every 60 s on Lambda's 1-minute metrics, no high-resolution source. */
export const ONE_MINUTE_BAKE = { checkIntervalSeconds: 60, highResolution: undefined } as const;

/**
 * The real config with every environment on the 1-minute path: what a release validated before the high-resolution
 * source existed runs on, and what an environment without `bake.highResolution` runs on today.
 */
export function oneMinuteEnvironments(): Environments {
  const base = structuredClone(environments);
  for (const env of Object.values(base)) env.bake = { ...env.bake, ...ONE_MINUTE_BAKE };
  return parseEnvironments(base);
}
