import { ECRClient } from '@aws-sdk/client-ecr';
import { EcrImageRegistry } from '../../adapters/aws/ecr-image-registry.ts';
import { MemoryImageRegistry } from '../../adapters/memory/memory-registry.ts';
import { fakeEcr } from './aws-fakes/ecr-service.ts';
import { describeImageRegistryContract } from './image-registry.contract.ts';

describeImageRegistryContract('MemoryImageRegistry', () => {
  const registry = new MemoryImageRegistry();
  return { registry, push: (repo, digest, tag) => registry.push(repo, digest, tag) };
});

describeImageRegistryContract('EcrImageRegistry over a fake ECR', () => {
  const client = new ECRClient({ region: 'eu-west-1' });
  const ecr = fakeEcr(client);
  return { registry: new EcrImageRegistry({ client }), push: ecr.push };
});
