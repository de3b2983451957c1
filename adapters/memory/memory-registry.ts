import { commitOfImageTags } from '../../core/model/image-tags.ts';
import type { ImageRegistry } from '../../core/ports/ports.ts';

/** A tag that already names another digest: ECR's ImageTagAlreadyExistsException on an immutable repository. */
export class ImageTagAlreadyExists extends Error {
  override readonly name = 'ImageTagAlreadyExists';
}

/** An image registry: repositories of immutable digests, with tags that name one digest each. */
export class MemoryImageRegistry implements ImageRegistry {
  private readonly repositories = new Map<string, { digests: Set<string>; tags: Map<string, string> }>();

  push(repositoryName: string, digest: string, tag?: string): void {
    const repo = this.repositories.get(repositoryName) ?? {
      digests: new Set<string>(),
      tags: new Map<string, string>(),
    };
    repo.digests.add(digest);
    if (tag) {
      const existing = repo.tags.get(tag);
      if (existing && existing !== digest) {
        throw new ImageTagAlreadyExists(`tag ${tag} is immutable and already names ${existing} in ${repositoryName}`);
      }
      repo.tags.set(tag, digest);
    }
    this.repositories.set(repositoryName, repo);
  }

  async digestExists(repositoryName: string, digest: string): Promise<boolean> {
    return this.repositories.get(repositoryName)?.digests.has(digest) ?? false;
  }

  async resolveTag(repositoryName: string, tag: string): Promise<string | undefined> {
    return this.repositories.get(repositoryName)?.tags.get(tag);
  }

  async sourceCommit(repositoryName: string, digest: string): Promise<string | undefined> {
    const tags = [...(this.repositories.get(repositoryName)?.tags ?? new Map<string, string>())];
    return commitOfImageTags(tags.filter(([, d]) => d === digest).map(([tag]) => tag));
  }
}
