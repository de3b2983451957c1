import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { synthesizeServiceDefinition } from '../../infra/service-definition.ts';
import { synthesizeWorkflowDefinition } from '../../state-machine/synthesize.ts';
import { synthesizeService } from '../infra/service-stack.ts';

let saved: string | undefined;
let scratch: string;

beforeEach(() => {
  saved = process.env.TMPDIR;
  scratch = mkdtempSync(join(tmpdir(), 'switchyard-tmpdir-'));
  // os.tmpdir() reads TMPDIR on every call, so synthesis below writes its assembly here.
  process.env.TMPDIR = scratch;
});

afterEach(() => {
  if (saved === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = saved;
  rmSync(scratch, { recursive: true, force: true });
});

describe('in-process synthesis', () => {
  it('writes its cloud assembly to the temp directory and removes it once the template is read', () => {
    expect(tmpdir()).toBe(scratch);
    expect(synthesizeServiceDefinition().StartAt).toBeDefined();
    expect(synthesizeWorkflowDefinition().StartAt).toBeDefined();
    expect(synthesizeService().template.findResources('AWS::StepFunctions::StateMachine')).not.toEqual({});
    expect(readdirSync(scratch)).toEqual([]);
  });
});
