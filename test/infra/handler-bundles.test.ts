import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type AwsPort,
  ENTRY_FILES,
  FUNCTION_GRANTS,
  type PortGrants,
  RELEASE_API_ENTRY,
  RELEASE_API_GRANTS,
} from '../../contract/service-functions.ts';
import { PROJECT_ROOT } from '../../infra/switchyard-function.ts';
import { buildHandlers } from '../../scripts/build-handlers.ts';

// Inside the repository, so the bundle resolves the AWS SDK it leaves out from node_modules, as Lambda's runtime does.
const out = mkdtempSync(join(PROJECT_ROOT, 'dist-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The AWS SDK packages each port's adapter uses (adapters/aws/). */
const SDK_PACKAGES: Readonly<Record<AwsPort, readonly string[]>> = {
  functions: ['@aws-sdk/client-lambda'],
  metrics: ['@aws-sdk/client-cloudwatch'],
  alarms: ['@aws-sdk/client-cloudwatch'],
  store: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'],
  notifier: ['@aws-sdk/client-sns'],
  registry: ['@aws-sdk/client-ecr'],
  smokeSigners: ['@aws-sdk/client-secrets-manager'],
};

const sdkPackagesOf = (grants: PortGrants, extra: readonly string[] = []) =>
  [...new Set([...Object.keys(grants).flatMap((port) => SDK_PACKAGES[port as AwsPort]), ...extra])].sort();

describe('npm run build', () => {
  it('bundles a Lambda entry into one ESM file that exports its handler and leaves the AWS SDK to the runtime', async () => {
    const [built] = await buildHandlers(out, ['handlers/lambda/check-health.ts']);
    expect(built?.name).toBe('check-health');
    const text = readFileSync(built?.file ?? '', 'utf8');
    expect(text).toMatch(/from\s*"@aws-sdk\/client-cloudwatch"/);
    const module = (await import(pathToFileURL(built?.file ?? '').href)) as { handler?: unknown };
    expect(typeof module.handler).toBe('function');
  });

  it("leaves out Tracer's X-Ray SDK: Lambda's active tracing records the segment and no handler annotates it", async () => {
    const [built] = await buildHandlers(out, ['handlers/lambda/verify-green.ts']);
    expect((built?.inputs ?? []).filter((input) => /aws-xray-sdk|@aws-lambda-powertools\/tracer/.test(input))).toEqual(
      [],
    );
    expect(built?.bytes).toBeLessThanOrEqual(300 * 1024);
  });

  it("bundles zod's English messages only, not its other locales (zod is imported as a namespace everywhere)", async () => {
    const [built] = await buildHandlers(out, ['handlers/lambda/validate-release.ts']);
    const locales = (built?.inputs ?? []).filter((input) => /node_modules\/zod\/.*\/locales\//.test(input));
    expect(locales.map((input) => input.replace(/^.*\/locales\//, ''))).toEqual(['en.js']);
    expect(built?.packages.zod).toBeGreaterThan(0);
  });

  it('imports, in each bundle, exactly the AWS SDK packages of the ports its function is granted', async () => {
    const expected = new Map<string, string[]>([
      ...Object.entries(ENTRY_FILES).map(([fn, entry]): [string, string[]] => [
        entry,
        sdkPackagesOf(FUNCTION_GRANTS[fn as keyof typeof FUNCTION_GRANTS]),
      ]),
      // The release API also starts, reads, stops and answers executions (its Step Functions grants, infra/release-api.ts).
      [RELEASE_API_ENTRY, sdkPackagesOf(RELEASE_API_GRANTS, ['@aws-sdk/client-sfn'])],
    ]);
    const built = await buildHandlers(join(out, 'all'), [...expected.keys()]);
    expect(built).toHaveLength(expected.size);
    for (const [entry, packages] of expected) {
      const bundle = built.find((b) => entry.endsWith(`/${b.name}.ts`));
      const text = readFileSync(bundle?.file ?? '', 'utf8');
      const imported = [...new Set([...text.matchAll(/\bfrom\s*"(@aws-sdk\/[\w-]+)"/g)].map((m) => m[1]))].sort();
      expect({ entry, imported }).toEqual({ entry, imported: packages });
    }
  });
});
