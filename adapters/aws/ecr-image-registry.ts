import { DescribeImagesCommand, ECRClient, type ImageIdentifier } from '@aws-sdk/client-ecr';
import { commitOfImageTags } from '../../core/model/image-tags.ts';
import type { ImageRegistry } from '../../core/ports/ports.ts';
import { hasErrorName } from './error-names.ts';

let defaultClient: ECRClient | undefined;
function ecrClient(): ECRClient {
  defaultClient ??= new ECRClient({});
  return defaultClient;
}

export interface EcrImageRegistryOptions {
  /** @default one `ECRClient` per module, with the default credential chain and region. */
  readonly client?: ECRClient;
  /** The account that owns the repositories. @default the caller's account */
  readonly registryId?: string;
}

/**
 * Image digests and tags in ECR. A repository that does not exist holds no image, as in the in-memory registry;
 * validation already checked the name against the environment config, and its refusal names repository and digest.
 */
export class EcrImageRegistry implements ImageRegistry {
  private readonly client: ECRClient;
  private readonly registryId: string | undefined;

  constructor(options: EcrImageRegistryOptions = {}) {
    this.client = options.client ?? ecrClient();
    this.registryId = options.registryId;
  }

  async digestExists(repositoryName: string, digest: string): Promise<boolean> {
    const images = await this.describe(repositoryName, { imageDigest: digest });
    return images.some((image) => image.imageDigest === digest);
  }

  async resolveTag(repositoryName: string, tag: string): Promise<string | undefined> {
    const images = await this.describe(repositoryName, { imageTag: tag });
    return images.find((image) => image.imageDigest)?.imageDigest;
  }

  /** DescribeImages by digest returns the image's tags (`imageTags`); the build stage's `git-<sha>` names its commit. */
  async sourceCommit(repositoryName: string, digest: string): Promise<string | undefined> {
    const images = await this.describe(repositoryName, { imageDigest: digest });
    return commitOfImageTags(images.find((image) => image.imageDigest === digest)?.imageTags ?? []);
  }

  private async describe(repositoryName: string, imageId: ImageIdentifier) {
    try {
      const out = await this.client.send(
        new DescribeImagesCommand({
          ...(this.registryId ? { registryId: this.registryId } : {}),
          repositoryName,
          imageIds: [imageId],
        }),
      );
      return out.imageDetails ?? [];
    } catch (error) {
      if (hasErrorName(error, 'ImageNotFoundException', 'RepositoryNotFoundException')) return [];
      throw error;
    }
  }
}
