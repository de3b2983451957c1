import type { Environments } from '../../config/schema.ts';
import { parseProxyResponse, restProxyEvent } from '../../core/model/api-gateway-event.ts';
import type { FrontDoor, FrontDoorRequest, FrontDoorResponse, FunctionVersions } from '../../core/ports/ports.ts';

/**
 * The green stage in memory: each request becomes the REST proxy event API Gateway would send to the environment's
 * green alias. It models the stage's mapping, not a WAF; the local runtime goes through its HTTP gateway instead.
 */
export class MemoryFrontDoor implements FrontDoor {
  constructor(
    private readonly functions: FunctionVersions,
    private readonly environments: Environments,
  ) {}

  async sendToGreen(environment: string, request: FrontDoorRequest, timeoutMs: number): Promise<FrontDoorResponse> {
    const env = Object.values(this.environments).find((e) => e.name === environment);
    if (!env) throw new Error(`no green stage for environment ${environment}`);
    const url = `memory://${env.functionName}/green${request.path}`;
    const result = await this.functions.invoke(env.functionName, env.aliases.green, restProxyEvent(request), timeoutMs);
    if (result.functionError) return { statusCode: 502, body: '{"message":"Internal server error"}', url };
    const response = parseProxyResponse(result.payload);
    return { statusCode: response.statusCode, body: response.body, url };
  }
}
