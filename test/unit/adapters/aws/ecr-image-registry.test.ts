import {
  DescribeImagesCommand,
  ECRClient,
  ImageNotFoundException,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcrImageRegistry } from '../../../../adapters/aws/ecr-image-registry.ts';

const ecr = mockClient(ECRClient);
const registry = (registryId?: string) =>
  new EcrImageRegistry({ client: new ECRClient({ region: 'eu-west-1' }), ...(registryId ? { registryId } : {}) });
const DIGEST = 'sha256:abc123';

beforeEach(() => {
  ecr.reset();
});

describe('digestExists', () => {
  it('describes the image by digest', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST }] });

    expect(await registry().digestExists('orders-api', DIGEST)).toBe(true);
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'orders-api',
      imageIds: [{ imageDigest: DIGEST }],
    });
  });

  it('is false when ECR knows no such image', async () => {
    ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: 'not found', $metadata: {} }));
    expect(await registry().digestExists('orders-api', DIGEST)).toBe(false);
  });

  it('names the registry account when configured', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] });
    expect(await registry('210987654321').digestExists('orders-api', DIGEST)).toBe(false);
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      registryId: '210987654321',
      repositoryName: 'orders-api',
      imageIds: [{ imageDigest: DIGEST }],
    });
  });

  it('is false when the repository does not exist', async () => {
    ecr.on(DescribeImagesCommand).rejects(new RepositoryNotFoundException({ message: 'no repo', $metadata: {} }));
    expect(await registry().digestExists('typo', DIGEST)).toBe(false);
  });

  it('passes other errors through', async () => {
    ecr.on(DescribeImagesCommand).rejects(new Error('AccessDeniedException'));
    await expect(registry().digestExists('orders-api', DIGEST)).rejects.toThrow('AccessDeniedException');
  });
});

describe('resolveTag', () => {
  it('returns the digest the tag names', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: ['v1.2.0'] }] });

    expect(await registry().resolveTag('orders-api', 'v1.2.0')).toBe(DIGEST);
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'orders-api',
      imageIds: [{ imageTag: 'v1.2.0' }],
    });
  });

  it('is undefined for an unknown tag', async () => {
    ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: 'not found', $metadata: {} }));
    expect(await registry().resolveTag('orders-api', 'nope')).toBeUndefined();
  });
});

describe('sourceCommit', () => {
  it("reads the commit from the digest's git-<commit> tag", async () => {
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        { imageDigest: 'sha256:abc', imageTags: ['latest', 'git-0123456789abcdef0123456789abcdef01234567'] },
      ],
    });
    const registry = new EcrImageRegistry({ client: new ECRClient({ region: 'us-east-1' }) });
    expect(await registry.sourceCommit('repo', 'sha256:abc')).toBe('0123456789abcdef0123456789abcdef01234567');
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'repo',
      imageIds: [{ imageDigest: 'sha256:abc' }],
    });
  });

  it('is undefined for an image without such a tag', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:abc', imageTags: ['latest'] }] });
    const registry = new EcrImageRegistry({ client: new ECRClient({ region: 'us-east-1' }) });
    expect(await registry.sourceCommit('repo', 'sha256:abc')).toBeUndefined();
  });
});
