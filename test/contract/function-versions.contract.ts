import { beforeEach, describe, expect, it } from 'vitest';
import type { FunctionVersions } from '../../core/ports/ports.ts';

export interface FunctionVersionsSubject {
  readonly functions: FunctionVersions;
  /** A function that exists and has never been published. */
  readonly functionName: string;
  /** Two images the function can be updated to (by digest); by default two digests in a registry nobody reads. */
  readonly images?: readonly [PushedImage, PushedImage];
}

/** An image by digest: `<repository URI>@<digest>`. */
export interface PushedImage {
  readonly uri: string;
  readonly digest: string;
}

/**
 * Where an implementation differs from what AWS documents, named with the reason and its source. The contract then
 * asserts the implementation's own behaviour in that place, so the difference shows in the test and a change in it
 * fails the test; nothing is left unchecked without saying so.
 */
export interface FunctionVersionsDifferences {
  /** It cannot run the function's image: the invocation test does not run on it, for this reason. */
  readonly cannotInvoke?: string;
  /** PublishVersion of unchanged code publishes a new version where Lambda returns the latest one, for this reason. */
  readonly republishesUnchangedCode?: string;
  /**
   * UpdateAlias with a stale RevisionId succeeds where Lambda refuses it, for this reason: the refusal test does not
   * run on it, and the subject's own file pins the difference.
   */
  readonly ignoresStaleRevision?: string;
}

/** Every subject's functions answer an invocation with `{ version, echo: payload }` and status 200. */
export interface EchoAnswer {
  readonly version: string;
  readonly echo: unknown;
}

const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-api';
const DEFAULT_IMAGES = [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`].map((digest) => ({
  uri: `${REGISTRY}@${digest}`,
  digest,
})) as [PushedImage, PushedImage];

/** What the release logic relies on from Lambda versions and aliases, for every FunctionVersions. */
export function describeFunctionVersionsContract(
  name: string,
  makeSubject: () => Promise<FunctionVersionsSubject> | FunctionVersionsSubject,
  differences: FunctionVersionsDifferences = {},
) {
  describe(`${name} (FunctionVersions contract)`, () => {
    let functions: FunctionVersions;
    let fn: string;
    let DIGEST_A: string;
    let DIGEST_B: string;
    let uris: Record<string, string>;
    beforeEach(async () => {
      const subject = await makeSubject();
      ({ functions, functionName: fn } = subject);
      const [a, b] = subject.images ?? DEFAULT_IMAGES;
      DIGEST_A = a.digest;
      DIGEST_B = b.digest;
      uris = { [a.digest]: a.uri, [b.digest]: b.uri };
    });
    const image = (digest: string) => uris[digest] ?? digest;

    /** The alias as read, without the backend's revision id (Lambda has one, memory does not). */
    async function aliasOf(alias: string) {
      const read = await functions.getAlias(fn, alias);
      if (!read) return read;
      const { revisionId: _revision, ...state } = read;
      return state;
    }

    async function publish(digest: string, description: string) {
      const { codeSha256 } = await functions.updateCodeAndWait(fn, image(digest));
      return functions.publishVersion(fn, description, codeSha256);
    }

    it('publishes an image as a version that runs its digest', async () => {
      const { codeSha256 } = await functions.updateCodeAndWait(fn, image(DIGEST_A));
      const published = await functions.publishVersion(fn, 'rel-1', codeSha256);

      expect(published).toEqual({ version: expect.any(String), description: 'rel-1', codeSha256 });
      expect(published.version).not.toBe('$LATEST');
      expect(await functions.versionImageDigest(fn, published.version)).toBe(DIGEST_A);
    });

    it('numbers each new image as a new version', async () => {
      const first = await publish(DIGEST_A, 'rel-1');
      const second = await publish(DIGEST_B, 'rel-2');
      expect(Number(second.version)).toBeGreaterThan(Number(first.version));
      expect(await functions.versionImageDigest(fn, second.version)).toBe(DIGEST_B);
      expect(await functions.versionImageDigest(fn, first.version)).toBe(DIGEST_A);
    });

    // "Lambda doesn't publish a version if the function's configuration and code haven't changed since the last
    // version. Instead, it returns the latest version" (PublishVersion,
    // https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html).
    it.runIf(!differences.republishesUnchangedCode)(
      'returns the latest version when the code has not changed since it was published',
      async () => {
        const first = await publish(DIGEST_A, 'rel-1');
        const again = await publish(DIGEST_A, 'rel-2');
        expect(again.version).toBe(first.version);
      },
    );

    if (differences.republishesUnchangedCode) {
      it(`differs from Lambda: publishes unchanged code as a new version (${differences.republishesUnchangedCode})`, async () => {
        const first = await publish(DIGEST_A, 'rel-1');
        const again = await publish(DIGEST_A, 'rel-2');
        expect(Number(again.version)).toBe(Number(first.version) + 1);
        expect(again.codeSha256).toBe(first.codeSha256);
      });
    }

    it('reads one published version: the description it was published with and its code hash', async () => {
      await publish(DIGEST_A, 'rel-1');
      const second = await publish(DIGEST_B, 'rel-2');

      expect(await functions.publishedVersion(fn, second.version)).toEqual({
        version: second.version,
        description: 'rel-2',
        codeSha256: second.codeSha256,
      });
      expect(await functions.publishedVersion(fn, '42')).toBeUndefined();
    });

    it('knows no digest for a version that was never published', async () => {
      expect(await functions.versionImageDigest(fn, '42')).toBeUndefined();
    });

    it('has no alias until one is created', async () => {
      expect(await functions.getAlias(fn, 'live')).toBeUndefined();
      const v1 = await publish(DIGEST_A, 'rel-1');
      await functions.ensureAlias(fn, 'live', v1.version);
      expect(await aliasOf('live')).toEqual({ name: 'live', version: v1.version });
    });

    it('routes part of an alias’s traffic to a second version, and clears it', async () => {
      const v1 = await publish(DIGEST_A, 'rel-1');
      const v2 = await publish(DIGEST_B, 'rel-2');
      await functions.ensureAlias(fn, 'live', v1.version);

      await functions.updateAlias(fn, 'live', v1.version, { version: v2.version, weight: 0.1 });
      expect(await aliasOf('live')).toEqual({
        name: 'live',
        version: v1.version,
        routing: { version: v2.version, weight: 0.1 },
      });

      await functions.updateAlias(fn, 'live', v2.version);
      expect(await aliasOf('live')).toEqual({ name: 'live', version: v2.version });
    });

    it('moves an existing alias with ensureAlias, dropping its routing', async () => {
      const v1 = await publish(DIGEST_A, 'rel-1');
      const v2 = await publish(DIGEST_B, 'rel-2');
      await functions.ensureAlias(fn, 'live', v1.version);
      await functions.updateAlias(fn, 'live', v1.version, { version: v2.version, weight: 0.5 });

      await functions.ensureAlias(fn, 'live', v2.version);
      expect(await aliasOf('live')).toEqual({ name: 'live', version: v2.version });
    });

    it.runIf(!differences.ignoresStaleRevision)(
      'moves an alias from the state the caller read, and refuses when it changed since',
      async () => {
        const v1 = await publish(DIGEST_A, 'rel-1');
        const v2 = await publish(DIGEST_B, 'rel-2');
        await functions.ensureAlias(fn, 'live', v1.version);
        const read = await functions.getAlias(fn, 'live');
        await functions.updateAlias(fn, 'live', v1.version, { version: v2.version, weight: 0.1 }, read);
        expect(await aliasOf('live')).toEqual({
          name: 'live',
          version: v1.version,
          routing: { version: v2.version, weight: 0.1 },
        });

        // `read` is stale now: moving from it would overwrite the split made since.
        await expect(functions.updateAlias(fn, 'live', v2.version, undefined, read)).rejects.toMatchObject({
          name: 'AliasConflict',
        });
        expect(await aliasOf('live')).toMatchObject({ version: v1.version, routing: { version: v2.version } });
      },
    );

    it('refuses to update an alias that does not exist', async () => {
      const v1 = await publish(DIGEST_A, 'rel-1');
      await expect(functions.updateAlias(fn, 'green', v1.version)).rejects.toThrow();
      expect(await functions.getAlias(fn, 'green')).toBeUndefined();
    });

    it.runIf(!differences.cannotInvoke)(
      'invokes a version or an alias with a JSON payload and returns the parsed answer',
      async () => {
        const v1 = await publish(DIGEST_A, 'rel-1');
        await functions.ensureAlias(fn, 'green', v1.version);
        const event = { httpMethod: 'GET', path: '/health', headers: { accept: 'application/json' } };

        const byVersion = await functions.invoke(fn, v1.version, event, 1000);
        const byAlias = await functions.invoke(fn, 'green', event, 1000);

        const answer: EchoAnswer = { version: v1.version, echo: event };
        expect(byVersion).toEqual({ statusCode: 200, payload: answer });
        expect(byAlias).toEqual({ statusCode: 200, payload: answer });
      },
    );
  });
}
