import type { Connection } from './context.ts';
import { CliFailure, statusExitCode } from './exit-codes.ts';

/** The release API refused a request: one line (with its field errors) and the status's exit code. */
export class ApiRefusal extends CliFailure {
  override readonly name = 'ApiRefusal';
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    const fields = ((body.errors as { field: string; message: string }[] | undefined) ?? []).map(
      (e) => `${e.field}: ${e.message}`,
    );
    const running = body.runningRelease ? [`running release: ${String(body.runningRelease)}`] : [];
    const extra = [...fields, ...running];
    super(
      `error ${status}: ${String(body.message ?? 'request failed')}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`,
      statusExitCode(status),
    );
  }
}

/** Calls the release API; a non-2xx answer becomes an `ApiRefusal`. */
export async function call(
  connection: Connection,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await connection.client.request(method, path, body);
  if (response.status < 200 || response.status >= 300) throw new ApiRefusal(response.status, response.body);
  return response.body;
}
