import { describe, expect, it } from 'vitest';
import { startExecution } from '../../local/engine.ts';
import type { AslDefinition } from '../../state-machine/synthesize.ts';

const passThrough = (): AslDefinition => ({
  StartAt: 'Echo',
  States: { Echo: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:echo', End: true } },
});

describe('the local engine', () => {
  it('refuses a definition that is not valid ASL, every time it is asked to run it', () => {
    const broken = { StartAt: 'Nowhere', States: { Here: { Type: 'Pass', End: true } } } as AslDefinition;
    for (let i = 0; i < 2; i++) {
      expect(() =>
        startExecution({ definition: broken, handlers: {}, input: {}, executionName: `bad-${i}` }),
      ).toThrow();
    }
  });

  it('refuses to run a Task state that has no local handler, so nothing is ever sent to AWS', () => {
    expect(() => startExecution({ definition: passThrough(), handlers: {}, input: {}, executionName: 'x' })).toThrow(
      'no local handler for Task state(s): Echo',
    );
  });

  it('runs many executions of one definition, each with its own input and result', async () => {
    const definition = passThrough();
    const runs = ['a', 'b', 'c'].map((value, i) =>
      startExecution({
        definition,
        handlers: { Echo: async (input) => ({ echoed: input }) },
        input: { value },
        executionName: `run-${i}`,
      }),
    );
    const results = await Promise.all(runs.map((r) => r.result));
    expect(results.map((r) => [r.status, r.output])).toEqual([
      ['SUCCEEDED', { echoed: { value: 'a' } }],
      ['SUCCEEDED', { echoed: { value: 'b' } }],
      ['SUCCEEDED', { echoed: { value: 'c' } }],
    ]);
  });
});
