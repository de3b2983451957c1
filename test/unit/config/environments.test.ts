import { describe, expect, it } from 'vitest';
import {
  environmentNamed,
  environments,
  longestApprovalWindowSeconds,
  parseEnvironments,
  pushTargets,
  trafficPlan,
} from '../../../config/environments.ts';

const valid = () => structuredClone(environments) as Record<string, Record<string, unknown>>;

describe('the environment config', () => {
  it("carries the seed's matrix", () => {
    const pick = (f: (e: (typeof environments)['dev']) => unknown) =>
      (['dev', 'staging', 'prod'] as const).map((n) => f(environmentNamed(n)));
    expect(pick((e) => e.memoryMb)).toEqual([256, 512, 1024]);
    expect(pick((e) => e.waf.mode)).toEqual(['count', 'count', 'block']);
    expect(pick((e) => e.logging)).toEqual(['basic', 'full', 'full']);
    expect(pick((e) => e.blueGreen)).toEqual([false, true, true]);
    expect(pick((e) => e.onUnhealthy)).toEqual(['alert', 'alert', 'roll-back']);
    expect(pick((e) => e.bake.minutes)).toEqual([2, 5, 10]);
    expect(pick((e) => e.promotesTo)).toEqual(['staging', 'prod', undefined]);
    expect(pushTargets().map((e) => e.name)).toEqual(['dev']);
  });

  it('reads as the parsed config wherever it is read, though it is parsed at first read rather than at import', () => {
    const parsed = parseEnvironments(valid());
    expect(Object.keys(environments)).toEqual(Object.keys(parsed));
    expect({ ...environments }).toEqual(parsed);
    expect(Object.values(environments)).toEqual(Object.values(parsed));
    expect(JSON.parse(JSON.stringify(environments))).toEqual(parsed);
    expect('prod' in environments).toBe(true);
    // One parse: every read returns the same objects.
    expect(environments.prod).toBe(environments.prod);
    expect(Object.values(environments)[0]).toBe(environments.dev);
  });

  it('expands strategies into explicit steps ending at 100%', () => {
    const prod = environmentNamed('prod');
    expect(trafficPlan(prod)).toEqual([
      { percent: 10, bakeSeconds: 300 },
      { percent: 100, bakeSeconds: 600 },
    ]);
    expect(trafficPlan(prod, { kind: 'linear', percentPerStep: 25, minutesPerStep: 2 })).toEqual([
      { percent: 25, bakeSeconds: 120 },
      { percent: 50, bakeSeconds: 120 },
      { percent: 75, bakeSeconds: 120 },
      { percent: 100, bakeSeconds: 600 },
    ]);
    expect(trafficPlan(prod, { kind: 'all-at-once' })).toEqual([{ percent: 100, bakeSeconds: 600 }]);
    expect(longestApprovalWindowSeconds()).toBe(3600);
  });

  it('fails fast naming each bad field', () => {
    const envs = valid();
    (envs.prod as Record<string, unknown>).memoryMb = 300;
    (envs.dev as Record<string, unknown>).strategy = { kind: 'canary', percent: 10, bakeMinutes: 1 };
    expect(() => parseEnvironments(envs)).toThrow(/dev\.strategy: an environment without blue-green/);
    expect(() => parseEnvironments(envs)).toThrow(/prod\.memoryMb: /);
  });

  it('refuses a first-call timeout shorter than the others', () => {
    const envs = valid();
    (envs.prod as { verification: Record<string, unknown> }).verification.firstCallTimeoutMs = 1000;
    expect(() => parseEnvironments(envs)).toThrow(
      /prod\.verification\.firstCallTimeoutMs: the first call \(a cold start\) needs at least the timeout/,
    );
  });

  it('takes an https green stage URL and refuses anything else, naming the Terraform output', () => {
    const envs = valid();
    const verification = (envs.prod as { verification: Record<string, unknown> }).verification;
    verification.greenStageUrl = 'https://abc123.execute-api.eu-west-1.amazonaws.com/green';
    expect(parseEnvironments(envs).prod.verification.greenStageUrl).toBe(
      'https://abc123.execute-api.eu-west-1.amazonaws.com/green',
    );
    verification.greenStageUrl = 'http://abc123.execute-api.eu-west-1.amazonaws.com/green';
    expect(() => parseEnvironments(envs)).toThrow(
      'prod.verification.greenStageUrl: must be an https:// URL (Terraform output green_stage_url)',
    );
  });

  it('refuses a lock that could expire before the release ends', () => {
    const envs = valid();
    (envs.prod as Record<string, unknown>).lockTtlMinutes = 30;
    expect(() => parseEnvironments(envs)).toThrow(/prod\.lockTtlMinutes: must be at least 96/);
  });

  it('refuses a pause whose checks would outgrow the execution history (25,000 events)', () => {
    const envs = valid();
    const prod = envs.prod as Record<string, unknown>;
    prod.maxPauseMinutes = 24 * 60;
    (prod.bake as Record<string, unknown>).checkIntervalSeconds = 10;
    expect(() => parseEnvironments(envs)).toThrow(
      /prod\.maxPauseMinutes: with a check every 10 s, the bakes and a 1440-minute pause need about \d+ execution history events, more than Step Functions' 25000/,
    );
    (prod.bake as Record<string, unknown>).checkIntervalSeconds = 60;
    expect(parseEnvironments(envs).prod?.maxPauseMinutes).toBe(24 * 60);
  });

  it('reads a high-resolution source only in periods CloudWatch allows, and checks no more often than every 10 s', () => {
    const envs = valid();
    const bake = (envs.prod as { bake: Record<string, unknown> }).bake;
    bake.highResolution = { periodSeconds: 15, metricDelaySeconds: 15 };
    bake.checkIntervalSeconds = 5;
    expect(() => parseEnvironments(envs)).toThrow(/prod\.bake\.highResolution\.periodSeconds: /);
    expect(() => parseEnvironments(envs)).toThrow(/prod\.bake\.checkIntervalSeconds: /);
    bake.highResolution = { periodSeconds: 10, metricDelaySeconds: 15 };
    bake.checkIntervalSeconds = 10;
    expect(parseEnvironments(envs).prod?.bake.highResolution).toEqual({ periodSeconds: 10, metricDelaySeconds: 15 });
    // Without it, the environment reads Lambda's 1-minute metrics alone, as before.
    delete bake.highResolution;
    expect(parseEnvironments(envs).prod?.bake.highResolution).toBeUndefined();
  });

  it('refuses a step schedule that does not end at 100% or does not increase', () => {
    const envs = valid();
    (envs.prod as Record<string, unknown>).strategy = {
      kind: 'steps',
      steps: [
        { percent: 50, bakeMinutes: 1 },
        { percent: 20, bakeMinutes: 1 },
      ],
    };
    expect(() => parseEnvironments(envs)).toThrow(
      /the last step must send 100% of traffic; prod\.strategy\.steps: step percentages must increase/,
    );
  });

  it('names an unknown environment and the known ones', () => {
    expect(() => environmentNamed('qa')).toThrow('unknown environment "qa"; expected one of: dev, staging, prod');
  });
});
