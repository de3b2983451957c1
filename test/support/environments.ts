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
