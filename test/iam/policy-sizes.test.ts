import { describe, expect, it } from 'vitest';
import { MAX_FLEET_MEMBERS } from '../../config/fleet.ts';
import { synthesizeService } from '../infra/service-stack.ts';
import { environmentsWith } from '../support/environments.ts';
import { deployedTemplate, resolve } from './deployed-template.ts';

/**
 * AWS's size limits on the policies the service stack deploys, in characters:
 * - a role's inline policies together: 10,240, and one managed policy: 6,144, "IAM does not count white space"
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
 * - an ECR repository policy: SetRepositoryPolicy's `policyText`, "Maximum length of 10240"
 *   (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_SetRepositoryPolicy.html).
 */
const ROLE_INLINE_LIMIT = 10_240;
const MANAGED_POLICY_LIMIT = 6_144;
const REPOSITORY_POLICY_LIMIT = 10_240;

/** A policy's size as IAM counts it: its JSON without white space (CDK writes none outside strings). */
const size = (document: unknown) => JSON.stringify(document).length;

/** Prod as a fleet of the design's largest size, every member's function name at Lambda's 64-character maximum. */
function largestFleet() {
  const members = Array.from({ length: MAX_FLEET_MEMBERS }, (_, i) => {
    const name = `member-${String(i).padStart(3, '0')}`;
    return { name, functionName: `switchyard-api-prod-${name}`.padEnd(64, 'x') };
  });
  return environmentsWith('prod', {
    lockTtlMinutes: 24 * 60,
    fleet: { deployConcurrency: 10, waves: [{ members: 1 }, { percent: 25 }, { percent: 100 }], members },
  });
}

describe(`a ${MAX_FLEET_MEMBERS}-member fleet synthesizes within every policy size limit`, () => {
  const t = deployedTemplate(synthesizeService(largestFleet()).template);
  const ofType = (type: string) => Object.keys(t.resources).filter((id) => t.resources[id]?.Type === type);
  const props = (id: string) => (t.resources[id]?.Properties ?? {}) as Record<string, unknown>;
  const roleRefs = (id: string) => ((props(id).Roles as { Ref: string }[] | undefined) ?? []).map((r) => r.Ref);
  const report = (line: string) => process.stdout.write(`${line}\n`);

  it("keeps every role's inline policies within 10,240 characters together", () => {
    const inline = new Map<string, number>();
    for (const role of ofType('AWS::IAM::Role')) {
      const own = (props(role).Policies as { PolicyDocument: unknown }[] | undefined) ?? [];
      inline.set(
        role,
        own.reduce((sum, p) => sum + size(resolve(p.PolicyDocument, t.resources)), 0),
      );
    }
    for (const policy of ofType('AWS::IAM::Policy')) {
      const chars = size(resolve(props(policy).PolicyDocument, t.resources));
      for (const role of roleRefs(policy)) inline.set(role, (inline.get(role) ?? 0) + chars);
    }
    const [largest, chars] = [...inline].sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
    report(
      `Policy sizes (${MAX_FLEET_MEMBERS} members): largest inline total ${chars} of ${ROLE_INLINE_LIMIT} (${largest})`,
    );
    expect(inline.size).toBeGreaterThan(10);
    expect([...inline].filter(([, total]) => total > ROLE_INLINE_LIMIT)).toEqual([]);
  });

  it('keeps every managed policy within 6,144 characters', () => {
    const managed = ofType('AWS::IAM::ManagedPolicy').map(
      (id) => [id, size(resolve(props(id).PolicyDocument, t.resources))] as const,
    );
    const [largest, chars] = [...managed].sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
    report(
      `Policy sizes (${MAX_FLEET_MEMBERS} members): largest managed policy ${chars} of ${MANAGED_POLICY_LIMIT} (${largest})`,
    );
    expect(managed.length).toBeGreaterThan(0);
    expect(managed.filter(([, chars]) => chars > MANAGED_POLICY_LIMIT)).toEqual([]);
  });

  it("keeps the repository policy within ECR's 10,240 characters", () => {
    const [repository] = ofType('AWS::ECR::Repository');
    const chars = size(resolve(props(repository ?? '').RepositoryPolicyText, t.resources));
    report(`Policy sizes (${MAX_FLEET_MEMBERS} members): repository policy ${chars} of ${REPOSITORY_POLICY_LIMIT}`);
    expect(chars).toBeGreaterThan(0);
    expect(chars).toBeLessThanOrEqual(REPOSITORY_POLICY_LIMIT);
  });
});
