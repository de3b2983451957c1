import { createHash } from 'node:crypto';
import {
  CreateRepositoryCommand,
  type ECRClient,
  PutImageCommand,
  RepositoryAlreadyExistsException,
} from '@aws-sdk/client-ecr';
import { MOTO_REGION } from './moto.ts';

export interface PushedImage {
  /** `<repository URI>@<digest>`: how a release names its image. */
  readonly uri: string;
  readonly digest: string;
}

/**
 * An image manifest (Docker schema 2) that is one per `seed`: what a `docker push` leaves behind, without layers.
 * ECR's digest of an image is the sha256 of its manifest.
 */
export function imageManifest(seed: string): string {
  const layer = `sha256:${createHash('sha256').update(`layer:${seed}`).digest('hex')}`;
  const config = `sha256:${createHash('sha256').update(`config:${seed}`).digest('hex')}`;
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1469, digest: config },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 32_654, digest: layer }],
  });
}

/** Creates the repository when it is missing, then puts the seed's image (with `tag` when given) by PutImage. */
export async function pushImage(
  ecr: ECRClient,
  repositoryName: string,
  seed: string,
  tag?: string,
): Promise<PushedImage> {
  let repositoryUri: string | undefined;
  try {
    const created = await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    repositoryUri = created.repository?.repositoryUri;
  } catch (error) {
    if (!(error instanceof RepositoryAlreadyExistsException)) throw error;
  }
  const manifest = imageManifest(seed);
  const out = await ecr.send(
    new PutImageCommand({
      repositoryName,
      imageManifest: manifest,
      imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      ...(tag ? { imageTag: tag } : {}),
    }),
  );
  const digest = out.image?.imageId?.imageDigest;
  if (!digest) throw new Error(`PutImage into ${repositoryName} returned no digest`);
  const registry = out.image?.registryId;
  const uri = repositoryUri ?? `${registry}.dkr.ecr.${MOTO_REGION}.amazonaws.com/${repositoryName}`;
  return { uri: `${uri}@${digest}`, digest };
}

/** ECR's digest of a manifest, as PutImage reports it: `sha256:` and the hex sha256 of the manifest's bytes. */
export const manifestDigest = (manifest: string) => `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
