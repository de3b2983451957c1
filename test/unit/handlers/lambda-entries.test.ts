import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENTRY_FILES, type ServiceFunction } from '../../../contract/service-functions.ts';
import { InvalidRelease } from '../../../core/model/errors.ts';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('each Lambda entry', () => {
  // A malformed input fails at the parse, before any AWS call: the error names the state whose task the entry bound.
  it.each(Object.entries(ENTRY_FILES) as Array<[ServiceFunction, string]>)(
    '%s binds its own task',
    async (fn, file) => {
      vi.stubEnv('RELEASE_TABLE_NAME', 'releases');
      vi.stubEnv('ALERTS_TOPIC_ARN', 'arn:aws:sns:eu-west-1:123456789012:alerts');
      vi.stubEnv('REGISTRY_HOST', '123456789012.dkr.ecr.eu-west-1.amazonaws.com');
      const entry = (await import(`../../../${file}`)) as { handler: (event: unknown) => Promise<unknown> };
      const failure = await entry.handler({ unexpected: true }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(InvalidRelease);
      expect((failure as Error).message).toMatch(new RegExp(`^${fn} received malformed input`));
    },
  );
});
