import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { synthesizeServiceDefinition } from '../../infra/service-definition.ts';
import { HANDLER_TASKS, STATES } from '../../state-machine/state-names.ts';

const definition = synthesizeServiceDefinition();

describe('the synthesized release definition', () => {
  it('passes asl-validator with no findings', () => {
    const result = aslValidator(definition);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('is JSONPath throughout: the local engine ignores JSONata, so none may appear', () => {
    const text = JSON.stringify(definition);
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(text).not.toContain('"QueryLanguage":"JSONata"');
    expect(text).not.toMatch(/\{%.*%\}/);
  });

  it('binds every handler-backed Task state, and only those and the CodeBuild step are Tasks', () => {
    // Deploy green and Verify green run inside the deploy Map, once per target.
    const map = definition.States[STATES.deployTargets] as { ItemProcessor?: { States: typeof definition.States } };
    const states = { ...definition.States, ...map.ItemProcessor?.States };
    const tasks = Object.entries(states)
      .filter(([, s]) => s.Type === 'Task')
      .map(([name]) => name)
      .sort();
    expect(tasks).toEqual([...HANDLER_TASKS, STATES.scan].sort());
    expect(Object.keys(map.ItemProcessor?.States ?? {}).sort()).toEqual([STATES.deploy, STATES.verify].sort());
  });

  it('rejects an invalid definition, so the check above can fail', () => {
    const broken = structuredClone(definition);
    const bake = broken.States[STATES.bake];
    if (!bake) throw new Error('no Bake state');
    bake.Next = 'No such state';
    expect(aslValidator(broken).isValid).toBe(false);
  });
});
