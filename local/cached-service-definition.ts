import { fileURLToPath } from 'node:url';
import type { AslDefinition } from '../state-machine/synthesize.ts';
import { cachedDefinition } from './local-cache.ts';

const ENTRY = fileURLToPath(new URL('../infra/service-definition.ts', import.meta.url));

/**
 * The service stack's state machine as `synthesizeServiceDefinition` makes it, read once when this module loads:
 * from the local cache while no file the synthesis imports (nor the lock file) changed, so a run skips both the CDK
 * synthesis and importing the CDK (docs/speed.md). Modules load once per process, so this is the definition the
 * process's own code would synthesize, however often it is asked for.
 */
const { definition } = await cachedDefinition({
  entry: ENTRY,
  synthesize: async () => (await import('../infra/service-definition.ts')).synthesizeServiceDefinition(),
});

/** A copy of the service definition for each runtime: nothing one run does to it reaches another. */
export function cachedServiceDefinition(): AslDefinition {
  return structuredClone(definition);
}
