import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/switchyard-function.ts';
import { buildHandlers } from '../../scripts/build-handlers.ts';

// Inside the repository, so the bundle resolves the AWS SDK it leaves out from node_modules, as Lambda's runtime does.
const out = mkdtempSync(join(PROJECT_ROOT, 'dist-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run build', () => {
  it('bundles a Lambda entry into one ESM file that exports its handler and leaves the AWS SDK to the runtime', async () => {
    const [built] = await buildHandlers(out, ['entries/check-health.ts']);
    expect(built?.name).toBe('check-health');
    const text = readFileSync(built?.file ?? '', 'utf8');
    expect(text).toMatch(/from\s*"@aws-sdk\/client-cloudwatch"/);
    const module = (await import(pathToFileURL(built?.file ?? '').href)) as { handler?: unknown };
    expect(typeof module.handler).toBe('function');
  });

  it("leaves out Tracer's X-Ray SDK: Lambda's active tracing records the segment and no handler annotates it", async () => {
    const [built] = await buildHandlers(out, ['entries/verify-green.ts']);
    expect((built?.inputs ?? []).filter((input) => /aws-xray-sdk|@aws-lambda-powertools\/tracer/.test(input))).toEqual(
      [],
    );
    expect(built?.bytes).toBeLessThanOrEqual(300 * 1024);
  });

  it("bundles zod's English messages only, not its other locales (zod is imported as a namespace everywhere)", async () => {
    const [built] = await buildHandlers(out, ['entries/validate-release.ts']);
    const locales = (built?.inputs ?? []).filter((input) => /node_modules\/zod\/.*\/locales\//.test(input));
    expect(locales.map((input) => input.replace(/^.*\/locales\//, ''))).toEqual(['en.js']);
    expect(built?.packages.zod).toBeGreaterThan(0);
  });

  it("keeps each task's bundle to its own task: Deploy green holds neither Check health's judge nor its statistics", async () => {
    const [built] = await buildHandlers(join(out, 'deploy'), ['entries/deploy-green.ts']);
    const inputs = built?.inputs ?? [];
    expect(inputs).toContain('core/steps/deploy-green.ts');
    expect(
      inputs.filter((input) => /core\/(check-health|judge|verify-green|validate-release)\.ts|@stdlib/.test(input)),
    ).toEqual([]);
  });
});
