import { ECRClient } from '@aws-sdk/client-ecr';
import { EcrImageRegistry } from '../../adapters/aws/ecr-image-registry.ts';
import { MemoryImageRegistry } from '../../adapters/memory/memory-registry.ts';
import { imageManifest, manifestDigest } from '../support/moto-ecr.ts';
import { fakeEcr } from './aws-fakes/ecr-service.ts';
import { describeImageRegistryContract } from './image-registry.contract.ts';

/** The digest ECR gives the image: the sha256 of its manifest. */
const digestOf = (image: string) => manifestDigest(imageManifest(image));

describeImageRegistryContract('MemoryImageRegistry', () => {
  const registry = new MemoryImageRegistry();
  return {
    registry,
    push: (repo, image, tag) => {
      registry.push(repo, digestOf(image), tag);
      return digestOf(image);
    },
  };
});

describeImageRegistryContract('EcrImageRegistry over a fake ECR', () => {
  const client = new ECRClient({ region: 'eu-west-1' });
  const ecr = fakeEcr(client);
  return {
    registry: new EcrImageRegistry({ client }),
    push: (repo, image, tag) => {
      ecr.push(repo, digestOf(image), tag);
      return digestOf(image);
    },
  };
});
