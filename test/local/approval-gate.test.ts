import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../adapters/memory/clocks.ts';
import { MemoryReleaseStore } from '../../adapters/memory/memory-release-store.ts';
import { LocalApprovalGate } from '../../local/approval-gate.ts';

afterEach(() => vi.useRealTimers());

/** Runs the wrapped "Await approval" handler for one release whose approval window is `seconds` long. */
function awaitApproval(gate: LocalApprovalGate, seconds: number) {
  const handler = gate.wrap(async () => undefined);
  return handler({ taskToken: 'token-1', release: { releaseId: 'rel-1', approvalTimeoutSeconds: seconds } });
}

describe('the local approval gate', () => {
  it('fails the token with States.Timeout when nobody answers within the window', async () => {
    vi.useFakeTimers();
    const store = new MemoryReleaseStore();
    const gate = new LocalApprovalGate({ store, clock: new ManualClock(new Date(0)) }, 'manual', 60);
    const outcome = awaitApproval(gate, 600).catch((e: Error) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('States.Timeout');
  });

  it('still fails the token when the stored request cannot be taken', async () => {
    vi.useFakeTimers();
    const store = new MemoryReleaseStore();
    vi.spyOn(store, 'takeApprovalRequest').mockRejectedValue(new Error('database is not open'));
    const gate = new LocalApprovalGate({ store, clock: new ManualClock(new Date(0)) }, 'manual', 60);
    const outcome = awaitApproval(gate, 600).catch((e: Error) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(((await outcome) as Error).name).toBe('States.Timeout');
  });

  it('close() stops open windows, so nothing touches the store after the runtime shuts it', async () => {
    vi.useFakeTimers();
    const store = new MemoryReleaseStore();
    const take = vi.spyOn(store, 'takeApprovalRequest');
    const gate = new LocalApprovalGate({ store, clock: new ManualClock(new Date(0)) }, 'manual', 60);
    void awaitApproval(gate, 600).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(1_000);
    gate.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(take).not.toHaveBeenCalled();
  });
});
