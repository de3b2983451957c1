import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { environments } from '../../config/environments.ts';
import { RETRYABLE_ERRORS } from '../../core/model/errors.ts';
import { synthesizeServiceDefinition } from '../../infra/service-definition.ts';
import { TRANSIENT_ERRORS } from '../../state-machine/release-workflow.ts';
import { HANDLER_TASKS, STATES } from '../../state-machine/state-names.ts';
import { definitionFromTemplate } from '../../state-machine/synthesize.ts';
import { service } from './service-stack.ts';

const asl = () => definitionFromTemplate(service().template);
type AslStates = Record<string, Record<string, unknown>>;
/** A state by name, at the top level or inside the deploy Map's iterations. */
const state = (name: string) => {
  const top = asl().States as AslStates;
  const map = top[STATES.deployTargets] as { ItemProcessor?: { States: AslStates } } | undefined;
  const found = top[name] ?? map?.ItemProcessor?.States[name];
  if (!found) throw new Error(`no state ${name}`);
  return found as Record<string, unknown> & {
    Retry?: Array<Record<string, unknown>>;
    Catch?: Array<Record<string, unknown>>;
  };
};

describe('the release state machine', () => {
  it('is a Standard state machine that logs every event to a KMS-encrypted log group and traces with X-Ray', () => {
    const { template } = service();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [
          {
            CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReleaseLogs'), 'Arn'] } },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/states/'),
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ServiceKey'), 'Arn'] },
      RetentionInDays: 365,
    });
  });

  it('times out after the longest release (lock lifetime plus the longest pause), when reconcile takes over', () => {
    const longest = Math.max(...Object.values(environments).map((e) => e.lockTtlMinutes + (e.maxPauseMinutes ?? 0)));
    expect(longest).toBe(180);
    expect(asl().TimeoutSeconds).toBe(longest * 60);
  });

  it('retries every handler task on Lambda faults and TransientFailure with jittered backoff', () => {
    for (const task of HANDLER_TASKS) {
      const retry = state(task).Retry ?? [];
      expect(retry, task).toContainEqual(
        expect.objectContaining({
          ErrorEquals: TRANSIENT_ERRORS,
          IntervalSeconds: 2,
          BackoffRate: 2,
          MaxDelaySeconds: 30,
          JitterStrategy: 'FULL',
        }),
      );
      expect(TRANSIENT_ERRORS).toEqual(expect.arrayContaining([...RETRYABLE_ERRORS, 'Lambda.ServiceException']));
      expect(state(task).TimeoutSeconds, task).toBeGreaterThan(0);
    }
  });

  it('catches failures before traffic moves into Record failure, and after into Roll back', () => {
    const catchTarget = (name: string) => state(name).Catch?.map((c) => [c.ErrorEquals, c.Next, c.ResultPath]);
    // Deploy green and Verify green fail their Map iteration, and the Map fails the release before traffic moved.
    for (const name of [STATES.scan, STATES.deployTargets]) {
      expect(catchTarget(name), name).toEqual([[['States.ALL'], STATES.recordFailure, '$.error']]);
    }
    for (const name of [STATES.deploy, STATES.verify]) expect(catchTarget(name), name).toBeUndefined();
    // A duplicate ECR delivery ends as a no-op (Succeed) before anything else is caught: no alert, no record.
    expect(catchTarget(STATES.validate)).toEqual([
      [['DuplicateDelivery'], STATES.duplicate, '$.duplicate'],
      [['States.ALL'], STATES.recordFailure, '$.error'],
    ]);
    expect(state(STATES.duplicate).Type).toBe('Succeed');
    for (const name of [STATES.shift, STATES.check, STATES.finalize]) {
      expect(catchTarget(name), name).toEqual([[['States.ALL'], STATES.rollBack, '$.error']]);
    }
    expect(catchTarget(STATES.rollBack)).toEqual([[['States.ALL'], STATES.rollbackFailed, '$.rollbackError']]);
  });

  it('runs Scan & provision as a synchronous CodeBuild release build with the release in its variables', () => {
    const scan = state(STATES.scan);
    expect(scan.Type).toBe('Task');
    expect(scan.Resource).toBe('arn:aws:states:::codebuild:startBuild.sync');
    expect(scan.Parameters).toEqual({
      ProjectName: expect.stringMatching(/^ReleaseStageReleaseProject/),
      EnvironmentVariablesOverride: [
        { Name: 'IMAGE_DIGEST', Type: 'PLAINTEXT', 'Value.$': '$.release.digest' },
        { Name: 'IMAGE_URI', Type: 'PLAINTEXT', 'Value.$': '$.release.imageUri' },
        { Name: 'SWITCHYARD_ENVIRONMENT', Type: 'PLAINTEXT', 'Value.$': '$.release.environment' },
        { Name: 'RELEASE_ID', Type: 'PLAINTEXT', 'Value.$': '$.release.releaseId' },
        { Name: 'SWITCHYARD_STAGE', Type: 'PLAINTEXT', Value: 'release' },
      ],
      // The image's own commit (its git-<commit> tag, set by Validate release), never the branch tip.
      'SourceVersion.$': '$.release.sourceCommit',
    });
    expect(scan.ResultSelector).toEqual({ 'buildId.$': '$.Build.Id', 'buildStatus.$': '$.Build.BuildStatus' });
    expect(scan.ResultPath).toBe('$.provision');
    expect(scan.Next).toBe(STATES.deployTargets);
  });

  it('deploys and verifies every target in one Map: a single function is one target, a fleet one per member', () => {
    const map = state(STATES.deployTargets) as Record<string, unknown> & {
      ItemProcessor: {
        StartAt: string;
        ProcessorConfig: { Mode: string };
        States: Record<string, { Next?: string; End?: boolean; OutputPath?: string; ResultPath?: string }>;
      };
    };
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.release.targets',
      MaxConcurrencyPath: '$.release.deployConcurrency',
      ItemSelector: { 'release.$': '$.release', 'target.$': '$$.Map.Item.Value' },
      // Each iteration hands back its green; the traffic states read them here, not from the record.
      ResultPath: '$.greens',
      Next: STATES.approvalNeeded,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATES.recordFailure }],
    });
    expect(map.ItemProcessor.ProcessorConfig.Mode).toBe('INLINE');
    expect(map.ItemProcessor.StartAt).toBe(STATES.deploy);
    expect(Object.keys(map.ItemProcessor.States).sort()).toEqual([STATES.deploy, STATES.verify].sort());
    expect(map.ItemProcessor.States[STATES.deploy]).toMatchObject({ Next: STATES.verify, ResultPath: '$.green' });
    expect(map.ItemProcessor.States[STATES.verify]).toMatchObject({
      End: true,
      ResultPath: '$.verification',
      OutputPath: '$.green',
    });
    // No branch on the kind of release: the Map is the only way from validation to the traffic states.
    expect(Object.values(asl().States).filter((s) => JSON.stringify(s).includes('fleet'))).toEqual([]);
  });

  it('waits for the release window with nothing held when Validate release says so, then validates again', () => {
    expect(state(STATES.validate).Next).toBe(STATES.windowOpen);
    expect(state(STATES.windowOpen)).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.release.awaitingWindow', IsPresent: true, Next: STATES.awaitWindow }],
      Default: STATES.scanEnabled,
    });
    expect(state(STATES.awaitWindow)).toMatchObject({
      Type: 'Wait',
      TimestampPath: '$.release.awaitingWindow.opensAt',
      Next: STATES.validate,
    });
  });

  it('runs Scan & provision only for environments that ask for it', () => {
    expect(state(STATES.windowOpen).Default).toBe(STATES.scanEnabled);
    expect(state(STATES.scanEnabled)).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.release.scanAndProvision', BooleanEquals: true, Next: STATES.scan }],
      Default: STATES.deployTargets,
    });
  });

  it('is exactly what synthesizeServiceDefinition hands the local runtime', () => {
    const local = synthesizeServiceDefinition();
    expect(Object.keys(local.States).sort()).toEqual(Object.keys(asl().States).sort());
    for (const [name, s] of Object.entries(asl().States)) {
      const { Resource: _cloud, Parameters: cloudParameters, ...cloud } = s;
      const { Resource: _local, Parameters: localParameters, ...mirrored } = local.States[name] ?? {};
      expect(mirrored, name).toEqual(cloud);
      expect(Object.keys((localParameters ?? {}) as object), name).toEqual(
        Object.keys((cloudParameters ?? {}) as object),
      );
    }
  });
});
