import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AwsPort,
  ENTRY_FILES,
  FUNCTION_GRANTS,
  type PortGrants,
  RELEASE_API_ENTRY,
  RELEASE_API_GRANTS,
  type ServiceFunction,
} from '../../contract/service-functions.ts';
import { PROJECT_ROOT } from '../../infra/switchyard-function.ts';
import { type BuiltHandler, buildHandlers } from '../../scripts/build-handlers.ts';

/** The SDK packages behind each port's AWS adapter (adapters/aws/). */
const PORT_PACKAGES: Readonly<Record<AwsPort, readonly string[]>> = {
  functions: ['client-lambda'],
  metrics: ['client-cloudwatch'],
  alarms: ['client-cloudwatch'],
  store: ['client-dynamodb', 'lib-dynamodb'],
  notifier: ['client-sns'],
  registry: ['client-ecr'],
  smokeSigners: ['client-secrets-manager'],
  insight: ['client-s3', 'client-dynamodb', 'lib-dynamodb'],
};

function expectedPackages(grants: PortGrants, extra: readonly string[] = []): string[] {
  const ports = Object.keys(grants) as AwsPort[];
  return [...new Set([...ports.flatMap((port) => PORT_PACKAGES[port]), ...extra])].sort();
}

/** Every AWS SDK package a bundle loads: static, side-effect and dynamic imports, and require() calls. */
function sdkPackages(bundle: BuiltHandler): string[] {
  const text = readFileSync(bundle.file, 'utf8');
  return [
    ...new Set(
      [...text.matchAll(/(?:\bfrom|\bimport|\brequire)\s*\(?\s*["']@aws-sdk\/([\w-]+)["']/g)].map((m) => m[1] ?? ''),
    ),
  ].sort();
}

// Inside the repository, so the bundles resolve the AWS SDK they leave out from node_modules, as Lambda's runtime does.
const out = mkdtempSync(join(PROJECT_ROOT, 'dist-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

let bundles: Map<string, BuiltHandler>;
beforeAll(async () => {
  const entries = [...Object.values(ENTRY_FILES), RELEASE_API_ENTRY];
  bundles = new Map((await buildHandlers(out, entries)).map((b) => [`entries/${b.name}.ts`, b]));
}, 120_000);

describe('each Lambda bundle loads only the SDK clients of its grants', () => {
  it.each(Object.entries(ENTRY_FILES) as Array<[ServiceFunction, string]>)('%s', (fn, entry) => {
    const bundle = bundles.get(entry);
    if (!bundle) throw new Error(`${entry} was not built`);
    expect(sdkPackages(bundle)).toEqual(expectedPackages(FUNCTION_GRANTS[fn]));
  });

  it('the release API: its grants and one Step Functions client', () => {
    const bundle = bundles.get(RELEASE_API_ENTRY);
    if (!bundle) throw new Error(`${RELEASE_API_ENTRY} was not built`);
    expect(sdkPackages(bundle)).toEqual(expectedPackages(RELEASE_API_GRANTS, ['client-sfn']));
  });
});
