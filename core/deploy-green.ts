import { DeploymentFailed } from './errors.ts';
import { memberOf, memberPrefix } from './fleet-member.ts';
import type { FunctionVersions, ReleaseStore } from './ports.ts';
import type { ReleaseContext } from './release-context.ts';

export interface GreenVersion {
  readonly version: string;
  readonly codeSha256: string;
  /** True when a retry found the version this release had already published. */
  readonly reused: boolean;
}

export interface DeployGreenDeps {
  readonly functions: FunctionVersions;
  readonly store: ReleaseStore;
  readonly clock: { now(): Date };
}

/**
 * Publishes the release's image as a new version and points `green` at it. The version's description is the
 * release id, so a retry finds what an earlier attempt published instead of publishing a second version.
 */
export async function deployGreen(release: ReleaseContext, deps: DeployGreenDeps): Promise<GreenVersion> {
  const { functionName } = release;
  let green: GreenVersion;
  const earlier = await deps.functions.findVersionByDescription(functionName, release.releaseId);
  if (earlier) {
    green = { version: earlier.version, codeSha256: earlier.codeSha256, reused: true };
  } else {
    const { codeSha256 } = await deps.functions.updateCodeAndWait(functionName, release.imageUri);
    const published = await deps.functions.publishVersion(functionName, release.releaseId, codeSha256);
    green = { version: published.version, codeSha256: published.codeSha256, reused: false };
  }
  const digest = await deps.functions.versionImageDigest(functionName, green.version);
  if (digest !== release.digest) {
    throw new DeploymentFailed(
      `version ${green.version} of ${functionName} runs ${digest ?? 'an unknown image'}, not ${release.digest}`,
      { version: green.version },
    );
  }
  if (green.version === release.blueVersion) {
    throw new DeploymentFailed(`publishing ${release.digest} returned the live version ${green.version}`);
  }
  await deps.functions.updateAlias(functionName, release.aliases.green, green.version);
  const event = {
    at: deps.clock.now().toISOString(),
    kind: 'deployed' as const,
    summary: `${memberPrefix(release)}${release.aliases.green} → version ${green.version}${green.reused ? ' (found from an earlier attempt)' : ''}`,
    evidence: { ...green, ...memberOf(release) },
  };
  if (release.member) {
    await deps.store.updateFleetMember(
      release.releaseId,
      release.member,
      { greenVersion: green.version, phase: 'deployed' },
      event,
    );
  } else {
    await deps.store.updateRelease(release.releaseId, { greenVersion: green.version }, event);
  }
  return green;
}
