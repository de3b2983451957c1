import type { FrontDoor, FrontDoorRequest, FrontDoorResponse } from '../../core/ports/ports.ts';

export interface HttpFrontDoorOptions {
  /**
   * The green stage's base URL for an environment (`https://<api-id>.execute-api.<region>.amazonaws.com/green`,
   * Terraform's `green_stage_url` output), or undefined when it has none.
   */
  readonly greenStageUrl: (environment: string) => string | undefined | Promise<string | undefined>;
  /** What to tell the operator when an environment has no URL. */
  readonly whereToConfigure: string;
}

/**
 * Sends requests to the application's green stage over HTTPS (on AWS) or to the local gateway's `/green` base path,
 * exactly as a client would: no AWS credentials, the app's own API key + HMAC scheme in the headers. A request that
 * does not answer within the timeout rejects with the fetch `TimeoutError`, which the state machine retries.
 */
export class HttpFrontDoor implements FrontDoor {
  constructor(private readonly options: HttpFrontDoorOptions) {}

  async sendToGreen(environment: string, request: FrontDoorRequest, timeoutMs: number): Promise<FrontDoorResponse> {
    const base = await this.options.greenStageUrl(environment);
    if (!base) {
      throw new Error(`no green stage URL is configured for ${environment} (${this.options.whereToConfigure})`);
    }
    const url = `${base.replace(/\/+$/, '')}${request.path}`;
    const response = await fetch(url, {
      method: request.method,
      headers: request.headers,
      ...(request.body ? { body: request.body } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { statusCode: response.status, body: await response.text(), url };
  }
}
