import * as z from 'zod';
import { StrategySchema } from '../config/schema.ts';
import { DIGEST_PATTERN } from '../core/model/release-request.ts';

const Reason = z.string().trim().min(1, 'a reason is required').max(1024);
/** ECR's tag rule. */
const ImageTag = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, 'must be an ECR image tag');

/** The fields of a release start, shared by the start route and the override route. */
const StartReleaseFields = {
  imageDigest: z.string().regex(DIGEST_PATTERN, 'must be an image digest like "sha256:<hex>"').optional(),
  imageTag: ImageTag.optional(),
  repositoryName: z.string().min(1).optional(),
  strategy: StrategySchema.optional(),
  reason: z.string().max(1024).optional(),
  /** The same key (per environment) always names the same release: a retried request returns it. */
  idempotencyKey: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 letters, digits or . _ : -')
    .optional(),
  /** Start past the environment's hold after a manual rollback (recorded in the history with the reason). */
  passHold: z.boolean().optional(),
};
const oneImage = {
  check: (body: { imageDigest?: string | undefined; imageTag?: string | undefined }) =>
    (body.imageDigest === undefined) !== (body.imageTag === undefined),
  params: { path: ['imageDigest'], message: 'give exactly one of imageDigest or imageTag' },
};

/** POST /environments/{environment}/releases. A digest is deployed as is; a tag is resolved to its digest once, here. */
export const StartReleaseBody = z.strictObject(StartReleaseFields).refine(oneImage.check, oneImage.params);
/**
 * POST /environments/{environment}/overrides: a start that overrides the environment's windows and freezes, behind
 * its own route (and so its own IAM permission); the reason is required and recorded with the caller.
 */
export const OverrideReleaseBody = z
  .strictObject({ ...StartReleaseFields, reason: Reason })
  .refine(oneImage.check, oneImage.params);
export type StartReleaseBody = z.infer<typeof StartReleaseBody>;

export const ApproveBody = z.strictObject({ comment: z.string().max(1024).optional() });
export const RejectBody = z.strictObject({ reason: Reason });
export const ReasonBody = z.strictObject({ reason: Reason });
export const AbortBody = z.strictObject({ reason: z.string().max(1024).optional() });
export const PauseBody = z.strictObject({ reason: z.string().max(1024).optional() });
export const ResumeBody = z.strictObject({});
export const RetryBody = z.strictObject({ reason: z.string().max(1024).optional() });
/** POST /environments/{environment}/promotions/{releaseId}: the path names the environment promoted into. */
export const PromoteToNextBody = z.strictObject({
  reason: z.string().max(1024).optional(),
  /** Needed to promote a release that went live with warnings (unhealthy checks in alert mode, too little traffic). */
  acceptWarnings: z.boolean().optional(),
});

/** GET /releases and GET /environments/{environment}/releases: the environment is the path's, never a filter. */
export const ListQuery = z.strictObject({
  status: z.enum(['running', 'released', 'rolled-back', 'failed', 'aborted']).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().min(1).max(2048).optional(),
});

/** GET /insights: one environment (every one when absent) and one window (7, 30 and 90 days when absent). */
export const InsightsQuery = z.strictObject({
  env: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  days: z.coerce.number().int().min(1).max(365).optional(),
});

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ field: issue.path.join('.') || '(body)', message: issue.message }));
}
