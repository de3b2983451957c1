import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { RECONCILE } from '../../contract/service-functions.ts';
import { environmentsWith } from '../support/environments.ts';
import { service, synthesizeService } from './service-stack.ts';

function acknowledgements(scope: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return scope.node.findAll().flatMap((node) =>
    node.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, unknown>).map(([id, reason]) => ({
          path: node.node.path,
          id,
          reason: typeof reason === 'string' ? reason : JSON.stringify(reason),
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the service stack', () => {
    const report = new AwsSolutionsChecks().validateScope(service().stack);
    expect(
      report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => JSON.stringify(r)).join(', ')}`),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  it("finds nothing unacknowledged with a fleet, whose members are granted by the environment's fleet prefix", () => {
    const envs = environmentsWith('prod', {
      lockTtlMinutes: 6 * 60,
      fleet: {
        deployConcurrency: 2,
        waves: [{ members: 1 }, { percent: 100 }],
        members: ['orders', 'search'].map((name) => ({ name, functionName: `switchyard-api-prod-${name}` })),
      },
    });
    const report = new AwsSolutionsChecks().validateScope(synthesizeService(envs).stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('acknowledges each finding with a specific reason, never for the whole stack', () => {
    // CDK itself acknowledges cfn-lint rules on constructs it configures (e.g. W3045 on log buckets); only ours here.
    const acks = acknowledgements(service().stack).filter((a) => a.id.includes('AwsSolutions-'));
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.path, ack.id).not.toBe('Switchyard');
      expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThan(40);
    }
    expect(new Set(acks.map((a) => a.id.replace(/^Annotation::/i, '').replace(/\[.*$/, '')))).toEqual(
      new Set([
        'AwsSolutions-IAM5',
        'AwsSolutions-IAM4',
        'AwsSolutions-SQS3',
        'AwsSolutions-COG4',
        'AwsSolutions-APIG3',
      ]),
    );
  });

  it('still reports a wildcard that no acknowledgement covers', () => {
    const { stack } = synthesizeService();
    stack.functions.functions[RECONCILE].role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Scan'],
        resources: ['arn:aws:dynamodb:us-east-1:123456789012:table/*'],
      }),
    );
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([
      'AwsSolutions-IAM5[Resource::arn:aws:dynamodb:us-east-1:123456789012:table/*]',
    ]);
  });
});
