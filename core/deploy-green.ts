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

/** The green version the record holds for this release (or this fleet member), if an earlier attempt wrote one. */
async function recordedGreen(release: ReleaseContext, store: ReleaseStore): Promise<string | undefined> {
  const record = await store.getRelease(release.releaseId);
  if (!release.member) return record?.greenVersion;
  return record?.fleet?.members.find((m) => m.name === release.member)?.greenVersion;
}

/**
 * Publishes the release's image as a new version and points `green` at it. The version's description is the
 * release id, and the record names the version once it passed the checks, before the alias moves, so a retry reads
 * it back (one GetFunction) instead of publishing a second version; nothing lists the function's versions, so the
 * calls do not grow with their number. A retry that finds no version in the record (the attempt stopped between
 * PublishVersion and that write) updates and publishes again: Lambda "doesn't publish a version if the function's configuration and code haven't
 * changed since the last version" (https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html), so it
 * gets the same version back.
 */
export async function deployGreen(release: ReleaseContext, deps: DeployGreenDeps): Promise<GreenVersion> {
  const { functionName } = release;
  let green: GreenVersion;
  const recorded = await recordedGreen(release, deps.store);
  const earlier = recorded ? await deps.functions.publishedVersion(functionName, recorded) : undefined;
  if (earlier && earlier.description === release.releaseId) {
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
  if (!green.reused) {
    // Named before anything else can fail, so a retry of this state finds it.
    if (release.member) {
      await deps.store.updateFleetMember(release.releaseId, release.member, { greenVersion: green.version });
    } else {
      await deps.store.updateRelease(release.releaseId, { greenVersion: green.version });
    }
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
