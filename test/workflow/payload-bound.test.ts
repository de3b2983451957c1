import { describe, expect, it } from 'vitest';
import { environments } from '../../config/environments.ts';
import type { EnvironmentName } from '../../config/schema.ts';
import { MAX_WARNINGS } from '../../core/model/traffic.ts';
import type { TaskHandler } from '../../handlers/task-handler.ts';
import { environmentsWith } from '../support/environments.ts';
import { ReleaseWorld } from './harness.ts';

/**
 * Step Functions refuses a state payload over 256 KiB ("States.DataLimitExceeded"). The bound this suite holds every
 * state's input and output to, a quarter of that, leaves room for what a larger config or a longer error message adds.
 */
const PAYLOAD_BOUND_BYTES = 64 * 1024;

/** The longest bake any configured environment runs, in minutes, at the shortest configured check interval. */
const longestBakeMinutes = Math.max(...Object.values(environments).map((e) => e.bake.minutes));
const shortestInterval = Math.min(...Object.values(environments).map((e) => e.bake.checkIntervalSeconds));

/** Each Task handler wrapped to record the size of every payload it receives and returns. */
function measured(handlers: Record<string, TaskHandler>, sizes: number[]): Record<string, TaskHandler> {
  return Object.fromEntries(
    Object.entries(handlers).map(([name, handler]) => [
      name,
      async (input: unknown) => {
        sizes.push(Buffer.byteLength(JSON.stringify(input)));
        const output = await handler(input);
        sizes.push(Buffer.byteLength(JSON.stringify(output ?? null)));
        return output;
      },
    ]),
  );
}

/**
 * The longest bake the config allows: the lock lives at most 24 hours and must outlast the bake by 15 minutes, so
 * 23 h 45 min; at 10-minute checks (143 of them), which the local engine runs in about a second.
 */
/**
 * The longest bake a 24-hour lock allows: its release window adds the wait for the last minute's complete data
 * (1 minute plus the 2-minute metric delay) and 15 minutes of margin.
 */
const LONGEST_ALLOWED = { minutes: 24 * 60 - 18, checkIntervalSeconds: 600 };

const cases = [
  ...(Object.keys(environments) as EnvironmentName[]).map((name) => ({
    label: `${name}, the longest configured bake (${longestBakeMinutes} min at ${shortestInterval} s)`,
    name,
    bake: { minutes: longestBakeMinutes, checkIntervalSeconds: shortestInterval },
  })),
  {
    label: 'staging, the longest bake the config allows (23 h 45 min)',
    name: 'staging' as EnvironmentName,
    bake: LONGEST_ALLOWED,
  },
];

describe('Step Functions payloads stay bounded, alert-only and unhealthy on every check', () => {
  it.each(cases)('$label', async ({ name, bake }) => {
    const world = await new ReleaseWorld({
      environment: name,
      environments: environmentsWith(name, {
        onUnhealthy: 'alert',
        approvalRequired: false,
        strategy: { kind: 'all-at-once' },
        bake,
        ...(bake === LONGEST_ALLOWED ? { lockTtlMinutes: 24 * 60 } : {}),
      }),
      traffic: () => ({ invocations: 100, errors: 60 }),
    }).seed();
    const sizes: number[] = [];
    const result = await world.run(world.apiRequest(), { handlers: measured(world.handlers(), sizes) });

    expect(result.status).toBe('SUCCEEDED');
    const output = result.output as { traffic: { checks: number; warnings: string[] } };
    const checks = output.traffic.checks;
    expect(checks).toBeGreaterThanOrEqual((bake.minutes * 60) / bake.checkIntervalSeconds);
    // Every check that judged complete data found it unhealthy and warned; past MAX_WARNINGS the state keeps the
    // first ones and counts the rest.
    const record = await world.store.getRelease(result.executionName);
    const unhealthy = (record?.events ?? []).filter(
      (e) =>
        e.kind === 'health-check' && (e.evidence?.check as { verdict?: string } | undefined)?.verdict === 'unhealthy',
    ).length;
    expect(unhealthy).toBeGreaterThan(0);
    if (unhealthy <= MAX_WARNINGS) expect(output.traffic.warnings).toHaveLength(unhealthy);
    else {
      expect(output.traffic.warnings).toHaveLength(MAX_WARNINGS);
      expect(output.traffic.warnings.at(-1)).toMatch(new RegExp(`^${unhealthy - MAX_WARNINGS + 1} more warnings`));
    }
    const largest = Math.max(...sizes);
    process.stdout.write(`Largest state payload, ${name} (${checks} checks): ${largest} bytes\n`);
    expect(largest).toBeLessThan(PAYLOAD_BOUND_BYTES);
  });
});
