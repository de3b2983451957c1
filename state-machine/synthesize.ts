import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ReleaseWorkflow, type ReleaseWorkflowProps } from './release-workflow.ts';
import { HANDLER_TASKS, type HandlerTask } from './state-names.ts';

export type AslDefinition = { StartAt: string; States: Record<string, Record<string, unknown>> } & Record<
  string,
  unknown
>;

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

export interface TemplateSynthesisOptions {
  /**
   * Run aws-cdk-lib's built-in CloudFormation template validation (`AppProps.builtinCloudFormationValidation`,
   * what `cdk synth --no-validation` turns off), with its findings as errors (the feature flag
   * `@aws-cdk/core:validateAgainstDefaultRules`, as cdk.json sets it). It guards a deploy, and `cdk synth`/`cdk deploy`
   * keep it on; a synthesis whose template is only read (the local runtime, tests that read the ASL) skips it,
   * since it costs more CPU than the synthesis itself.
   * @default false
   */
  readonly validate?: boolean;
}

/**
 * Synthesizes one stack in memory and returns its template. The cloud assembly is written to a folder of its own,
 * removed as soon as the template is read, so in-process synthesis (the local runtime, the tests) leaves no
 * `cdk.out*` folders behind in the system's temp directory. Bundling is skipped: a template is only read here.
 */
export function synthesizeTemplate<S extends Stack>(
  build: (app: App) => S,
  options: TemplateSynthesisOptions = {},
): { stack: S; template: Template } {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-synth-'));
  try {
    const app = new App({
      outdir,
      builtinCloudFormationValidation: options.validate ?? false,
      context: {
        'aws:cdk:bundling-stacks': [],
        ...(options.validate ? { '@aws-cdk/core:validateAgainstDefaultRules': true } : {}),
      },
    });
    const stack = build(app);
    return { stack, template: Template.fromStack(stack) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Turns a synthesized `DefinitionString` (an Fn::Join over tokens) into plain ASL, naming resources by logical id. */
export function resolveDefinitionString(definition: unknown): AslDefinition {
  const resolve = (part: unknown): string => {
    if (typeof part === 'string') return part;
    if (part && typeof part === 'object') {
      const getAtt = Reflect.get(part, 'Fn::GetAtt') as unknown;
      if (Array.isArray(getAtt)) return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${String(getAtt[0])}`;
      const ref = Reflect.get(part, 'Ref') as unknown;
      if (ref === 'AWS::Partition') return 'aws';
      if (ref === 'AWS::Region') return REGION;
      if (ref === 'AWS::AccountId') return ACCOUNT;
      if (typeof ref === 'string') return ref;
      const join = Reflect.get(part, 'Fn::Join') as unknown;
      if (Array.isArray(join)) return (join[1] as unknown[]).map(resolve).join(String(join[0]));
    }
    throw new Error(`cannot resolve definition token ${JSON.stringify(part)}`);
  };
  return JSON.parse(resolve(definition)) as AslDefinition;
}

/** The ASL of the one state machine in a synthesized template. */
export function definitionFromTemplate(template: Template): AslDefinition {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const [machine] = machines;
  if (!machine || machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  return resolveDefinitionString(machine.Properties.DefinitionString);
}

/**
 * Synthesizes the release workflow on its own (placeholder functions, no bundling) and returns its ASL.
 * `extend` lets a caller add the optional scan step the way the service stack does.
 */
export function synthesizeWorkflowDefinition(
  extend?: (stack: Stack) => Partial<Pick<ReleaseWorkflowProps, 'scanAndProvision'>>,
): AslDefinition {
  const { template } = synthesizeTemplate((app) => {
    const stack = new Stack(app, 'ReleaseWorkflowDefinition', { env: { account: ACCOUNT, region: REGION } });
    addWorkflow(stack, extend);
    return stack;
  });
  return definitionFromTemplate(template);
}

function addWorkflow(
  stack: Stack,
  extend?: (stack: Stack) => Partial<Pick<ReleaseWorkflowProps, 'scanAndProvision'>>,
): void {
  const handlers = {} as Record<HandlerTask, lambda.IFunction>;
  HANDLER_TASKS.forEach((task, i) => {
    handlers[task] = new lambda.Function(stack, `Handler${i}`, {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
  });
  const workflow = new ReleaseWorkflow(stack, 'Workflow', { handlers, ...(extend?.(stack) ?? {}) });
  new sfn.StateMachine(stack, 'ReleaseStateMachine', {
    definitionBody: sfn.DefinitionBody.fromChainable(workflow.startState),
  });
}
