import type { z } from 'zod';
import {
  type FieldError,
  MalformedRequest,
  PayloadTooLarge,
  UnsupportedMediaType,
  ValidationFailed,
} from './errors.ts';

/** Checked before anything else, including the signature, so an oversized body costs no hashing. */
export function enforceBodyLimit(body: Uint8Array, maxBytes: number): void {
  if (body.byteLength > maxBytes) {
    throw new PayloadTooLarge(`The body is ${body.byteLength} bytes; the limit is ${maxBytes}.`, {
      limitBytes: maxBytes,
    });
  }
}

const JSON_MEDIA_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

export function requireJsonContentType(headers: Readonly<Record<string, string>>): void {
  const contentType = headers['content-type'];
  if (!contentType || !JSON_MEDIA_TYPE.test(contentType.trim())) {
    throw new UnsupportedMediaType(
      `Content-Type must be application/json (optionally with charset=utf-8); got ${contentType ? JSON.stringify(contentType.slice(0, 100)) : 'none'}.`,
    );
  }
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message }));
}

/** Decodes UTF-8 strictly, parses JSON and validates it; each step fails with a 400 the client can act on. */
export function parseJsonBody<T extends z.ZodType>(body: Uint8Array, schema: T): z.infer<T> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new MalformedRequest('The body is not valid UTF-8.');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text, and a body may carry anything: it never reaches the answer or a log.
    throw new MalformedRequest('The body is not valid JSON.');
  }
  return validate(raw, schema, 'The body does not match the schema.');
}

export function validate<T extends z.ZodType>(value: unknown, schema: T, message: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationFailed(message, fieldErrors(parsed.error));
  return parsed.data;
}
