import type { EnvironmentConfig } from '../../config/schema.ts';
import type { ReleaseRecord } from '../ports/ports.ts';
import type { StartInput } from './start-release.ts';

/** The start input of a release that follows on from `record` (a promotion or a retry): its digest, into `env`. */
export function followOnInput(
  record: ReleaseRecord,
  env: EnvironmentConfig,
  requestedBy: string,
  reason: string,
  link: { readonly promotedFrom: string } | { readonly retryOf: string },
): StartInput {
  return {
    trigger: 'api',
    environment: env.name,
    imageDigest: record.digest,
    repositoryName: env.repositoryName,
    requestedBy: requestedBy.slice(0, 256),
    reason,
    ...link,
  };
}
