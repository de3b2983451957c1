import { ManualClock } from '../../../adapters/memory/clocks.ts';
import { MemoryFunctionVersions } from '../../../adapters/memory/memory-functions.ts';
import { MemoryImageRegistry } from '../../../adapters/memory/memory-registry.ts';
import { MemoryReleaseStore } from '../../../adapters/memory/memory-release-store.ts';
import { environments } from '../../../config/environments.ts';
import { ExecutionNameTaken } from '../../../core/errors.ts';
import type { ReleaseRecord } from '../../../core/ports.ts';
import { singleTarget } from '../../../core/ports.ts';

export const DIGEST = `sha256:${'c'.repeat(64)}`;

/** The executions a core operation started and stopped, by release id, as Step Functions would name them. */
export function recordingExecutions() {
  const started = new Map<string, Record<string, unknown>>();
  const running = new Set<string>();
  const stopped: { releaseId: string; cause: string }[] = [];
  const executionArnFor = (releaseId: string) =>
    `arn:aws:states:eu-west-1:123456789012:execution:switchyard:${releaseId}`;
  return {
    started,
    running,
    stopped,
    executionArnFor,
    async startExecution(releaseId: string, input: Record<string, unknown>) {
      if (started.has(releaseId)) throw new ExecutionNameTaken(`execution ${releaseId} exists`);
      started.set(releaseId, input);
      running.add(releaseId);
      return { executionArn: executionArnFor(releaseId) };
    },
    async describeExecution(releaseId: string) {
      return running.has(releaseId) ? { executionArn: executionArnFor(releaseId), status: 'RUNNING' } : undefined;
    },
    async stopExecution(releaseId: string, cause: string) {
      stopped.push({ releaseId, cause });
      running.delete(releaseId);
    },
  };
}

/** Every environment's function (no release yet), the digest in the registry with its build's git-<commit> tag, and in-memory records and executions. */
export function releaseWorld() {
  const functions = new MemoryFunctionVersions();
  const registry = new MemoryImageRegistry();
  for (const env of Object.values(environments)) {
    functions.createFunction(env.functionName);
    registry.push(env.repositoryName, DIGEST, 'git-c0ffee1');
  }
  return {
    environments,
    functions,
    registry,
    store: new MemoryReleaseStore(),
    clock: new ManualClock(),
    ...recordingExecutions(),
  };
}

export function releaseRecord(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    releaseId: 'rel-1',
    executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:switchyard:rel-1',
    environment: 'dev',
    targets: singleTarget({ functionName: environments.dev.functionName, blueVersion: '1', greenVersion: '2' }),
    imageUri: `registry/${environments.dev.repositoryName}@${DIGEST}`,
    digest: DIGEST,
    status: 'released',
    startedAt: '2026-11-26T09:00:00.000Z',
    endedAt: '2026-11-26T09:10:00.000Z',
    trigger: 'ecr-push:1',
    events: [],
    ...overrides,
  };
}
