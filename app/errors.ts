/**
 * Every refusal the API makes is one of these: the status code, a stable machine-readable code, and a message that
 * tells the client what to fix. Messages never carry secrets, expected signatures or key material.
 */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export abstract class HttpError extends Error {
  abstract readonly statusCode: number;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;

  constructor(message: string, details?: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
    this.headers = headers;
  }

  /** What the response body says; 5xx errors override it so internal detail stays in the logs. */
  get clientMessage(): string {
    return this.message;
  }
}

/** 400: the event is not an API Gateway proxy event this function understands. */
export class UnsupportedEvent extends HttpError {
  readonly statusCode = 400;
}

/** 404 */
export class RouteNotFound extends HttpError {
  readonly statusCode = 404;
}

/** 405, with the methods the path does accept. */
export class MethodNotAllowed extends HttpError {
  readonly statusCode = 405;
}

/** 401: one or more of the signing headers is absent. */
export class MissingCredentials extends HttpError {
  readonly statusCode = 401;
}

/** 400: a signing header is present but not in the documented format (a client bug, not a wrong secret). */
export class MalformedCredentials extends HttpError {
  readonly statusCode = 400;
}

/** 401 */
export class UnknownApiKey extends HttpError {
  readonly statusCode = 401;
}

/** 401: the signature does not match the request under any of the client's secrets. */
export class InvalidSignature extends HttpError {
  readonly statusCode = 401;
}

/** 401: X-Timestamp is outside the tolerance, either way. */
export class StaleTimestamp extends HttpError {
  readonly statusCode = 401;
}

/** 401: this client already used this nonce within the tolerance window. */
export class NonceReplayed extends HttpError {
  readonly statusCode = 401;
}

/** 413 */
export class PayloadTooLarge extends HttpError {
  readonly statusCode = 413;
}

/** 415 */
export class UnsupportedMediaType extends HttpError {
  readonly statusCode = 415;
}

/** 400: the body is not decodable (bad base64, bad UTF-8, bad JSON) or the query cannot be canonicalised. */
export class MalformedRequest extends HttpError {
  readonly statusCode = 400;
}

/** 400: well-formed input that breaks the schema, with one entry per offending field. */
export class ValidationFailed extends HttpError {
  readonly statusCode = 400;
  readonly fields: readonly FieldError[];

  constructor(message: string, fields: readonly FieldError[]) {
    super(message, { fields });
    this.fields = fields;
  }
}

/** 404 for a resource (not a route). */
export class OrderNotFound extends HttpError {
  readonly statusCode = 404;
}

/** 500: the function has no source of client keys configured. */
export class KeySourceNotConfigured extends HttpError {
  readonly statusCode = 500;

  override get clientMessage(): string {
    return 'Signed requests cannot be authenticated: this deployment has no client keys configured.';
  }
}

/** 503: client keys could not be read or parsed right now; the client may retry. */
export class KeyStoreUnavailable extends HttpError {
  readonly statusCode = 503;

  override get clientMessage(): string {
    return 'Signed requests cannot be authenticated right now; retry shortly.';
  }
}

/** 503: the shared nonce store could not be reached, so replay cannot be ruled out; the client may retry. */
export class NonceStoreUnavailable extends HttpError {
  readonly statusCode = 503;

  override get clientMessage(): string {
    return 'Signed requests cannot be checked for replay right now; retry shortly with a new nonce.';
  }
}
