import type { MemoryFunctionVersions } from '../adapters/memory/memory-functions.ts';
import { environmentNamed } from '../config/environments.ts';
import type { Environments } from '../config/schema.ts';
import { GREEN_STAGE, LocalGateway } from './gateway.ts';

/**
 * Each environment's API as Terraform shapes it: the default stage on `live` at the root, the `green` stage on the
 * green alias under `/green`. Verify green's front-door checks go to `<gateway>/green`; an environment nobody opened
 * a gateway for gets one of its own here, stopped by close().
 */
export class LocalGreenStages {
  private readonly urls = new Map<string, Promise<string>>();
  private readonly own: LocalGateway[] = [];

  constructor(private readonly deps: { functions: MemoryFunctionVersions; environments: Environments }) {}

  gatewayFor(environment: string): LocalGateway {
    const env = environmentNamed(environment, this.deps.environments);
    return new LocalGateway({
      functions: this.deps.functions,
      functionName: env.functionName,
      alias: env.aliases.live,
      stages: { [GREEN_STAGE]: env.aliases.green },
    });
  }

  /** Verify green sends its front-door checks to `<gatewayUrl>/green`. */
  open(environment: string, gatewayUrl: string): void {
    this.urls.set(environment, Promise.resolve(`${gatewayUrl}/${GREEN_STAGE}`));
  }

  /** The environment's green stage URL; undefined for an environment that is not configured. */
  url(environment: string): Promise<string | undefined> {
    const open = this.urls.get(environment);
    if (open) return open;
    if (!Object.values(this.deps.environments).some((e) => e.name === environment)) return Promise.resolve(undefined);
    const gateway = this.gatewayFor(environment);
    this.own.push(gateway);
    const url = gateway.start().then((base) => `${base}/${GREEN_STAGE}`);
    this.urls.set(environment, url);
    return url;
  }

  async close(): Promise<void> {
    await Promise.all(this.own.splice(0).map((g) => g.stop()));
  }
}
