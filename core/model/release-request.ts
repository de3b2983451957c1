import * as z from 'zod';
import { StrategySchema } from '../../config/schema.ts';
import { InvalidRelease } from './errors.ts';

/**
 * `sha256:` and lowercase hex. ECR digests carry 64 hex characters; the published ECR sample event is shortened
 * to 60, so anything from 32 up is accepted and ECR's exact-match lookup does the rest.
 */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{32,64}$/;
const Digest = z.string().regex(DIGEST_PATTERN, 'must be an image digest like "sha256:<hex>"; tags are not deployed');

/**
 * What the EventBridge rule on ECR pushes hands the state machine. `ECR_PUSH_INPUT_PATHS` says which field of the
 * ECR event fills which property; CDK's input transformer and the local event bus both read it.
 */
export const ECR_PUSH_INPUT_PATHS = {
  eventId: '$.id',
  eventTime: '$.time',
  repositoryName: '$.detail.repository-name',
  imageDigest: '$.detail.image-digest',
  imageTag: '$.detail.image-tag',
  actionType: '$.detail.action-type',
  result: '$.detail.result',
} as const;

const EcrPushRequestSchema = z.strictObject({
  trigger: z.literal('ecr-push'),
  environment: z.string().min(1),
  eventId: z.string().min(1),
  eventTime: z.string().min(1),
  repositoryName: z.string().min(1),
  imageDigest: Digest,
  /** Null when the push named no tag (the input transformer then yields null). */
  imageTag: z.string().nullable().optional(),
  actionType: z.literal('PUSH', { error: 'only PUSH actions start a release' }),
  result: z.literal('SUCCESS', { error: 'only successful pushes start a release' }),
});

const ApiRequestSchema = z.strictObject({
  trigger: z.literal('api'),
  environment: z.string().min(1),
  repositoryName: z.string().min(1).optional(),
  imageDigest: Digest,
  imageTag: z.string().optional(),
  strategy: StrategySchema.optional(),
  requestedBy: z.string().min(1).max(256),
  reason: z.string().max(1024).optional(),
  /** Set when the release promotes a digest that passed in an earlier environment. */
  promotedFrom: z.string().optional(),
  /** Set when the release retries an earlier one (same digest, same environment) that did not go live. */
  retryOf: z.string().optional(),
  /**
   * Set only by the release API's override route (its own IAM permission): the release starts in a freeze or
   * outside its windows, and the history names `requestedBy`, this reason and what it overrode.
   */
  override: z.strictObject({ reason: z.string().min(1).max(1024) }).optional(),
  /** The caller passes the environment's hold after a manual rollback (recorded in the history). */
  passHold: z.boolean().optional(),
});

export const ReleaseRequestSchema = z.discriminatedUnion('trigger', [EcrPushRequestSchema, ApiRequestSchema]);
export type ReleaseRequest = z.infer<typeof ReleaseRequestSchema>;
export type EcrPushRequest = z.infer<typeof EcrPushRequestSchema>;

/** The raw "ECR Image Action" event, for callers that hand the event over untransformed. */
const EcrEventSchema = z.object({
  source: z.literal('aws.ecr'),
  'detail-type': z.literal('ECR Image Action'),
  id: z.string(),
  time: z.string(),
  detail: z.record(z.string(), z.unknown()),
});

/** Reads a `$.a.b-c` path of ECR_PUSH_INPUT_PATHS from an event, as the EventBridge input transformer does. */
export function readEventPath(event: unknown, path: string): unknown {
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((value, key) => (value && typeof value === 'object' ? Reflect.get(value, key) : undefined), event);
}

/** Builds the release input from an ECR event exactly as the EventBridge input transformer does. */
export function ecrEventToRequest(event: unknown, environment: string): Record<string, unknown> {
  const request: Record<string, unknown> = { trigger: 'ecr-push', environment };
  for (const [field, path] of Object.entries(ECR_PUSH_INPUT_PATHS)) {
    const value = readEventPath(event, path);
    if (value !== undefined) request[field] = value;
  }
  return request;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`).join('; ');
}

/**
 * Parses whatever started the execution into a release request, or throws InvalidRelease naming each bad field.
 * Accepts the transformed ECR push input, the release API's input, or a raw ECR event plus an environment.
 */
export function parseReleaseRequest(raw: unknown): ReleaseRequest {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidRelease(`release input must be a JSON object, got ${raw === null ? 'null' : typeof raw}`);
  }
  const asEvent = EcrEventSchema.safeParse(raw);
  const candidate = asEvent.success
    ? ecrEventToRequest(raw, String(Reflect.get(raw, 'environment') ?? ''))
    : (raw as Record<string, unknown>);
  const parsed = ReleaseRequestSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new InvalidRelease(`invalid release request: ${describeIssues(parsed.error)}`, {
      fields: parsed.error.issues.map((i) => i.path.join('.')),
    });
  }
  return parsed.data;
}
