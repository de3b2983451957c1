import { createHash } from 'node:crypto';
import { ECRClient } from '@aws-sdk/client-ecr';
import { expect, it } from 'vitest';
import { EcrImageRegistry } from '../../adapters/aws/ecr-image-registry.ts';
import { motoAccount } from '../support/moto.ts';
import { imageManifest, manifestDigest, pushImage } from '../support/moto-ecr.ts';
import { describeImageRegistryContract } from './image-registry.contract.ts';

describeImageRegistryContract('EcrImageRegistry on moto', () => {
  const client = motoAccount().client(ECRClient);
  return {
    registry: new EcrImageRegistry({ client }),
    push: async (repo, image, tag) => (await pushImage(client, repo, image, tag)).digest,
  };
});

// ECR's image digest is "The sha256 digest of the image manifest"
// (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageIdentifier.html); moto hashes the manifest's
// layer digests joined instead (moto/ecr/models.py, Image._create_digest). Releases only carry digests that the
// registry reported, so the adapter is unaffected; this pins moto's way so the difference shows here.
it('differs from ECR: moto digests the joined layer digests, not the manifest', async () => {
  const client = motoAccount().client(ECRClient);
  const pushed = await pushImage(client, 'orders-api', 'orders-1');
  const manifest = imageManifest('orders-1');
  const layers = (JSON.parse(manifest) as { layers: { digest: string }[] }).layers.map((l) => l.digest).join('');
  expect(pushed.digest).toBe(`sha256:${createHash('sha256').update(layers).digest('hex')}`);
  expect(pushed.digest).not.toBe(manifestDigest(manifest));
});
