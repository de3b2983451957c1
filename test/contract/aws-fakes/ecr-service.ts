import {
  DescribeImagesCommand,
  type ECRClient,
  ImageNotFoundException,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';

interface FakeRepository {
  readonly digests: Set<string>;
  readonly tags: Map<string, string>;
}

/** A stateful stand-in for ECR DescribeImages by digest or tag, with ECR's not-found errors. */
export function fakeEcr(client: ECRClient): {
  push(repositoryName: string, digest: string, tag?: string): void;
} {
  const repositories = new Map<string, FakeRepository>();
  mockClient(client)
    .on(DescribeImagesCommand)
    .callsFake((input: DescribeImagesCommand['input']) => {
      const repo = repositories.get(input.repositoryName ?? '');
      if (!repo) {
        throw new RepositoryNotFoundException({
          message: `repository ${input.repositoryName} not found`,
          $metadata: {},
        });
      }
      const imageDetails = (input.imageIds ?? []).map((id) => {
        const digest = id.imageDigest ?? (id.imageTag ? repo.tags.get(id.imageTag) : undefined);
        if (!digest || !repo.digests.has(digest)) {
          throw new ImageNotFoundException({ message: 'The image requested does not exist', $metadata: {} });
        }
        const tags = [...repo.tags.entries()].filter(([, d]) => d === digest).map(([t]) => t);
        return { repositoryName: input.repositoryName, imageDigest: digest, imageTags: tags };
      });
      return { imageDetails };
    });
  return {
    push(repositoryName, digest, tag) {
      const repo = repositories.get(repositoryName) ?? { digests: new Set<string>(), tags: new Map<string, string>() };
      repo.digests.add(digest);
      if (tag) repo.tags.set(tag, digest);
      repositories.set(repositoryName, repo);
    },
  };
}
