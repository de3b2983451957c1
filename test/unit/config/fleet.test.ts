import { describe, expect, it } from 'vitest';
import { environments, parseEnvironments } from '../../../config/environments.ts';
import { fleetHistoryEvents, fleetReleaseMinutes, memberWaves, waveSizes } from '../../../config/fleet.ts';

type Raw = Record<string, Record<string, unknown>>;

const members = (count: number, prefix = 'switchyard-api-prod') =>
  Array.from({ length: count }, (_, i) => ({ name: `m${i + 1}`, functionName: `${prefix}-m${i + 1}` }));

/** The real config with a fleet on prod (lock widened so only the field under test can fail). */
function withFleet(fleet: Record<string, unknown>, prod: Record<string, unknown> = {}): Raw {
  const envs = structuredClone(environments) as unknown as Raw;
  envs.prod = { ...envs.prod, lockTtlMinutes: 24 * 60, ...prod, fleet };
  return envs;
}

const waves = [{ members: 1 }, { percent: 25 }, { percent: 100 }];

describe('a fleet in the config', () => {
  it('takes a 12-member fleet in three waves and assigns the waves in member order', () => {
    const envs = parseEnvironments(withFleet({ deployConcurrency: 4, waves, members: members(12) }));
    const fleet = envs.prod?.fleet;
    expect(fleet?.members).toHaveLength(12);
    expect(waveSizes(waves, 12)).toEqual([1, 3, 12]);
    expect(fleet && memberWaves(fleet)).toEqual([0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
  });

  it('refuses a duplicate member name and a duplicate function, naming the member', () => {
    const list = members(3);
    list[2] = { name: 'm1', functionName: 'switchyard-api-prod-m1' };
    expect(() => parseEnvironments(withFleet({ deployConcurrency: 2, waves, members: list }))).toThrow(
      /prod\.fleet\.members\.2\.name: duplicate member "m1".*prod\.fleet\.members\.2\.functionName: function switchyard-api-prod-m1 is already member m1/,
    );
  });

  it("refuses a member whose function is not under the environment's fleet prefix, naming the field and the prefix", () => {
    const list = [...members(2), { name: 'stray', functionName: 'shop-stray-prod' }];
    expect(() => parseEnvironments(withFleet({ deployConcurrency: 2, waves, members: list }))).toThrow(
      /prod\.fleet\.members\.2\.functionName: must be switchyard-api-prod or start with "switchyard-api-prod-"/,
    );
    // The environment's own function may be a member too.
    const own = [...members(4), { name: 'own', functionName: environments.prod.functionName }];
    expect(
      parseEnvironments(withFleet({ deployConcurrency: 2, waves, members: own })).prod?.fleet?.members,
    ).toHaveLength(5);
  });

  it('takes members under a prefix of their own (fleet.functionNamePrefix), and refuses a prefix that names nothing', () => {
    const shop = members(5, 'shop');
    const envs = parseEnvironments(
      withFleet({ functionNamePrefix: 'shop-', deployConcurrency: 2, waves, members: shop }),
    );
    expect(envs.prod?.fleet?.members.map((m) => m.functionName)).toEqual(shop.map((m) => m.functionName));
    expect(() =>
      parseEnvironments(withFleet({ functionNamePrefix: 'sh', deployConcurrency: 2, waves, members: shop })),
    ).toThrow(/prod\.fleet\.functionNamePrefix: must be 3–63 letters/);
  });

  it("refuses a member whose function is another environment's", () => {
    const list = [...members(2), { name: 'stolen', functionName: environments.staging.functionName }];
    expect(() => parseEnvironments(withFleet({ deployConcurrency: 2, waves, members: list }))).toThrow(
      /prod\.fleet\.members\.2\.functionName: function switchyard-api-staging is already staging\.functionName/,
    );
  });

  it('refuses a lock shorter than the modelled fleet release, naming lockTtlMinutes and the minutes needed', () => {
    const fleet = { deployConcurrency: 2, waves, members: members(12) };
    const parsed = parseEnvironments(withFleet(fleet));
    const prod = parsed.prod;
    if (!prod?.fleet) throw new Error('no fleet');
    // 6 batches × 3 min + 3 waves × (5+1+2 + 10+1+2) + 60 approval + 15 margin
    expect(fleetReleaseMinutes(prod, prod.fleet)).toBe(18 + 3 * 21 + 60 + 15);
    expect(() => parseEnvironments(withFleet(fleet, { lockTtlMinutes: 150 }))).toThrow(
      /prod\.lockTtlMinutes: must be at least 156 for this fleet/,
    );
  });

  it("refuses more deploy concurrency than Lambda's control-plane quota allows", () => {
    expect(() => parseEnvironments(withFleet({ deployConcurrency: 11, waves, members: members(12) }))).toThrow(
      /prod\.fleet\.deployConcurrency: at most 10: Lambda allows 15 control-plane requests a second/,
    );
  });

  it('refuses more members than the design is sized for', () => {
    expect(() => parseEnvironments(withFleet({ deployConcurrency: 10, waves, members: members(101) }))).toThrow(
      /prod\.fleet\.members: at most 100 members/,
    );
  });

  it('refuses waves that move nobody new or never reach every member', () => {
    expect(() =>
      parseEnvironments(
        withFleet({ deployConcurrency: 2, waves: [{ percent: 10 }, { members: 1 }], members: members(5) }),
      ),
    ).toThrow(/prod\.fleet\.waves: wave 2 moves no member the earlier waves did not/);
    expect(() =>
      parseEnvironments(
        withFleet({ deployConcurrency: 2, waves: [{ members: 1 }, { percent: 50 }], members: members(5) }),
      ),
    ).toThrow(/prod\.fleet\.waves: the last wave must move every member \(it reaches 3 of 5\)/);
  });

  it("refuses waves whose checks would outgrow Step Functions' 25,000-event execution history", () => {
    const prod = parseEnvironments(withFleet({ deployConcurrency: 10, waves, members: members(100) })).prod;
    if (!prod?.fleet) throw new Error('no fleet');
    // 100 members through the Map (12 events each) and one bake loop for the fleet at prod's 10-second checks
    // (three waves of canary, bake and the metric delay, plus a paused hour): under half the limit.
    expect(fleetHistoryEvents(prod, prod.fleet)).toBeGreaterThan(100 * 12);
    expect(fleetHistoryEvents(prod, prod.fleet)).toBeLessThan(12_500);
    // Ten waves of a day-long linear plan at 10-second checks would not fit.
    const long = {
      strategy: { kind: 'linear', percentPerStep: 10, minutesPerStep: 60 },
      bake: { minutes: 60, checkIntervalSeconds: 10, metricDelaySeconds: 120 },
    };
    const tenWaves = Array.from({ length: 10 }, (_, i) => ({ percent: (i + 1) * 10 }));
    expect(() =>
      parseEnvironments(withFleet({ deployConcurrency: 10, waves: tenWaves, members: members(20) }, long)),
    ).toThrow(/prod\.fleet\.waves: 20 members in 10 waves of this plan need about \d+ execution history events/);
  });

  it('refuses a member name that is no slug', () => {
    expect(() =>
      parseEnvironments(
        withFleet({
          deployConcurrency: 1,
          waves: [{ percent: 100 }],
          members: [{ name: 'Bad Name', functionName: 'x' }],
        }),
      ),
    ).toThrow(/prod\.fleet\.members\.0\.name: must be lower-case letters/);
  });
});
