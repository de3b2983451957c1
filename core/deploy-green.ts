import { DeploymentFailed } from './errors.ts';
import type { FunctionVersions, ReleaseStore } from './ports.ts';
import { type Green, type ReleaseContext, type TargetContext, targetLabel } from './release-context.ts';

export interface DeployGreenDeps {
  readonly functions: FunctionVersions;
  readonly store: ReleaseStore;
  readonly clock: { now(): Date };
}

/**
 * Publishes the release's image as a new version of one target's function and points its `green` at it. The
 * version's description is the release id, and the record names the version once it passed the checks, before the
 * alias moves, so a retry reads it back (one GetFunction) instead of publishing a second version; nothing lists the
 * function's versions, so the calls do not grow with their number. A retry that finds no version in the record (the
 * attempt stopped between PublishVersion and that write) updates and publishes again: Lambda "doesn't publish a
 * version if the function's configuration and code haven't changed since the last version"
 * (https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html), so it gets the same version back.
 */
export async function deployGreen(
  release: ReleaseContext,
  target: TargetContext,
  deps: DeployGreenDeps,
): Promise<Green> {
  const { functionName } = target;
  let green: Green;
  const record = await deps.store.getRelease(release.releaseId);
  const recorded = record?.targets.members.find((m) => m.name === target.name)?.greenVersion;
  const earlier = recorded ? await deps.functions.publishedVersion(functionName, recorded) : undefined;
  if (earlier && earlier.description === release.releaseId) {
    green = { target: target.name, version: earlier.version, codeSha256: earlier.codeSha256, reused: true };
  } else {
    const { codeSha256 } = await deps.functions.updateCodeAndWait(functionName, release.imageUri);
    const published = await deps.functions.publishVersion(functionName, release.releaseId, codeSha256);
    green = { target: target.name, version: published.version, codeSha256: published.codeSha256, reused: false };
  }
  const digest = await deps.functions.versionImageDigest(functionName, green.version);
  if (digest !== release.digest) {
    throw new DeploymentFailed(
      `version ${green.version} of ${functionName} runs ${digest ?? 'an unknown image'}, not ${release.digest}`,
      { version: green.version },
    );
  }
  if (green.version === target.blueVersion) {
    throw new DeploymentFailed(`publishing ${release.digest} returned the live version ${green.version}`);
  }
  if (!green.reused) {
    // Named before anything else can fail, so a retry of this state finds it.
    await deps.store.update(release.releaseId, { targets: { [target.name]: { greenVersion: green.version } } });
  }
  await deps.functions.updateAlias(functionName, target.aliases.green, green.version);
  const { member, prefix } = targetLabel(release, target);
  await deps.store.update(
    release.releaseId,
    { targets: { [target.name]: { greenVersion: green.version, phase: 'deployed' } } },
    {
      at: deps.clock.now().toISOString(),
      kind: 'deployed',
      summary: `${prefix}${target.aliases.green} → version ${green.version}${green.reused ? ' (found from an earlier attempt)' : ''}`,
      evidence: {
        version: green.version,
        codeSha256: green.codeSha256,
        reused: green.reused,
        ...(member ? { member } : {}),
      },
    },
  );
  return green;
}
