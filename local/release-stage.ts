import type { TaskHandler } from '../handlers/task-handler.ts';

export interface ReleaseStageRequest {
  readonly projectName: string;
  readonly environment: Record<string, string>;
  /** The commit the build checks out (StartBuild's SourceVersion). */
  readonly sourceVersion?: string;
}

/**
 * "Scan & provision" on one machine: CodeBuild's startBuild.sync stand-in. It records the build the state machine
 * asked for (project and environment overrides: digest, environment, release id) and reports it succeeded.
 * Trivy and Terraform do not run here; the buildspec tests cover what the real build does.
 */
export function localReleaseStage(requests: Map<string, ReleaseStageRequest>): TaskHandler {
  return async (input) => {
    const params = input as {
      ProjectName?: string;
      SourceVersion?: string;
      EnvironmentVariablesOverride?: { Name: string; Value: string }[];
    };
    const environment = Object.fromEntries((params.EnvironmentVariablesOverride ?? []).map((v) => [v.Name, v.Value]));
    const releaseId = environment.RELEASE_ID ?? 'unknown';
    requests.set(releaseId, {
      projectName: params.ProjectName ?? 'unknown',
      environment,
      ...(params.SourceVersion ? { sourceVersion: params.SourceVersion } : {}),
    });
    return { Build: { Id: `${params.ProjectName}:local-${releaseId}`, BuildStatus: 'SUCCEEDED' } };
  };
}
