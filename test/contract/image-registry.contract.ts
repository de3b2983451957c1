import { beforeEach, describe, expect, it } from 'vitest';
import type { ImageRegistry } from '../../core/ports.ts';

export interface ImageRegistrySubject {
  readonly registry: ImageRegistry;
  /** Pushes an image (and optionally its immutable tag) into a repository, creating the repository. */
  push(repositoryName: string, digest: string, tag?: string): void;
}

const DIGEST = `sha256:${'c'.repeat(64)}`;
const OTHER = `sha256:${'d'.repeat(64)}`;

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
      subject.push('orders-api', DIGEST);
      subject.push('billing-api', OTHER);
      expect(await subject.registry.digestExists('orders-api', DIGEST)).toBe(true);
      expect(await subject.registry.digestExists('orders-api', OTHER)).toBe(false);
    });

    it('knows no digest in a repository that does not exist', async () => {
      expect(await subject.registry.digestExists('no-such-repo', DIGEST)).toBe(false);
    });

    it('resolves a tag to the digest it names', async () => {
      subject.push('orders-api', DIGEST, 'v1.2.0');
      subject.push('orders-api', OTHER, 'v1.3.0');
      expect(await subject.registry.resolveTag('orders-api', 'v1.2.0')).toBe(DIGEST);
      expect(await subject.registry.resolveTag('orders-api', 'v9.9.9')).toBeUndefined();
      expect(await subject.registry.resolveTag('no-such-repo', 'v1.2.0')).toBeUndefined();
    });
  });
}
