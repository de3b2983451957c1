import { beforeEach, describe, expect, it } from 'vitest';
import type { ImageRegistry } from '../../core/ports/ports.ts';

export interface ImageRegistrySubject {
  readonly registry: ImageRegistry;
  /**
   * Pushes the image named `image` (the same name is the same image, so the same digest) into a repository, creating
   * the repository, and tags it when a tag is given. Returns the image's digest.
   */
  push(repositoryName: string, image: string, tag?: string): Promise<string> | string;
}

const DIGEST_SHAPE = /^sha256:[0-9a-f]{64}$/;

/** What release validation relies on from the image registry, for every ImageRegistry. */
export function describeImageRegistryContract(
  name: string,
  makeSubject: () => Promise<ImageRegistrySubject> | ImageRegistrySubject,
) {
  describe(`${name} (ImageRegistry contract)`, () => {
    let subject: ImageRegistrySubject;
    beforeEach(async () => {
      subject = await makeSubject();
    });

    it('knows a pushed digest, in its own repository only', async () => {
      const digest = await subject.push('orders-api', 'orders-1');
      const other = await subject.push('billing-api', 'billing-1');
      expect(digest).toMatch(DIGEST_SHAPE);
      expect(other).not.toBe(digest);
      expect(await subject.registry.digestExists('orders-api', digest)).toBe(true);
      expect(await subject.registry.digestExists('orders-api', other)).toBe(false);
    });

    it('knows no digest in a repository that does not exist', async () => {
      const digest = await subject.push('orders-api', 'orders-1');
      expect(await subject.registry.digestExists('no-such-repo', digest)).toBe(false);
    });

    it('resolves a tag to the digest it names', async () => {
      const first = await subject.push('orders-api', 'orders-1', 'v1.2.0');
      const second = await subject.push('orders-api', 'orders-2', 'v1.3.0');
      expect(await subject.registry.resolveTag('orders-api', 'v1.2.0')).toBe(first);
      expect(await subject.registry.resolveTag('orders-api', 'v1.3.0')).toBe(second);
      expect(await subject.registry.resolveTag('orders-api', 'v9.9.9')).toBeUndefined();
      expect(await subject.registry.resolveTag('no-such-repo', 'v1.2.0')).toBeUndefined();
    });

    it('names the commit an image was built from by its git-<sha> tag, and none for an untagged image', async () => {
      const built = await subject.push('orders-api', 'orders-1', 'git-0123456789abcdef');
      const untagged = await subject.push('orders-api', 'orders-2');
      expect(await subject.registry.sourceCommit('orders-api', built)).toBe('0123456789abcdef');
      expect(await subject.registry.sourceCommit('orders-api', untagged)).toBeUndefined();
      expect(await subject.registry.sourceCommit('no-such-repo', built)).toBeUndefined();
    });
  });
}
