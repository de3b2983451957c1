import { describe, expect, it } from 'vitest';
import {
  environmentOfReleaseId,
  idempotentReleaseId,
  newReleaseId,
  promotionReleaseId,
  retryReleaseId,
} from '../../../core/model/release-id.ts';

const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const STAGING = 'rel-staging-20261207224100-a1b2c3';

describe('a release id begins with the environment the release runs in', () => {
  it('for a new release and an idempotent one', () => {
    expect(environmentOfReleaseId(newReleaseId('prod'))).toBe('prod');
    expect(environmentOfReleaseId(idempotentReleaseId('staging', 'ci-42'))).toBe('staging');
  });

  it('for a promotion: a staging release promoted into prod is a prod id, never rel-staging-…-to-prod', () => {
    const id = promotionReleaseId('prod', STAGING);
    expect(id).toBe('rel-prod-from-staging-20261207224100-a1b2c3');
    expect(environmentOfReleaseId(id)).toBe('prod');
    expect(promotionReleaseId('prod', STAGING)).toBe(id);
  });

  it('for a promotion whose readable name would pass 80 characters: rel-<env>-promo-<hash>', () => {
    const long = `rel-staging-${'x'.repeat(66)}`;
    const id = promotionReleaseId('prod', long);
    expect(id).toMatch(/^rel-prod-promo-[0-9a-f]{20}$/);
    expect(promotionReleaseId('prod', `${long}y`)).not.toBe(id);
  });

  it('for a retry of any length: the hash form keeps the environment (no rel-retry-<hash>)', () => {
    expect(retryReleaseId('staging', STAGING)).toBe(`${STAGING}-retry`);
    const long = `rel-staging-${'x'.repeat(66)}`;
    const id = retryReleaseId('staging', long);
    expect(id).toMatch(/^rel-staging-retry-[0-9a-f]{20}$/);
    expect(environmentOfReleaseId(id)).toBe('staging');
  });

  it('for a retry of an id that names another environment first (an old-scheme promotion)', () => {
    const id = retryReleaseId('prod', `${STAGING}-to-prod`);
    expect(id).toMatch(/^rel-prod-retry-[0-9a-f]{20}$/);
  });

  it('every id is an execution name', () => {
    const long = `rel-dev-${'x'.repeat(72)}`;
    for (const id of [
      newReleaseId('staging'),
      idempotentReleaseId('prod', 'k'),
      promotionReleaseId('prod', long),
      promotionReleaseId('staging', long),
      retryReleaseId('dev', long),
      retryReleaseId('dev', `${long.slice(0, 60)}`),
    ]) {
      expect(id).toMatch(EXECUTION_NAME);
    }
  });

  it('names no environment for an id that begins with none', () => {
    expect(environmentOfReleaseId('3f1c2a9e-0b7d-4c55-9a3e-1f2e3d4c5b6a')).toBeUndefined();
    expect(environmentOfReleaseId('rel-qa-20261207224100-a1b2c3')).toBeUndefined();
    expect(environmentOfReleaseId('rel-production-x')).toBeUndefined();
  });
});
