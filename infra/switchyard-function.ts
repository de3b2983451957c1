import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { PortGrants } from '../contract/service-functions.ts';
import { type GrantResources, grantEnvironment, grantStatements, PLATFORM_ACTIONS } from './handler-permissions.ts';

/** The repository root: entries, the lock file and esbuild resolve from here whatever the working directory. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * How every handler is bundled, by `cdk deploy` (NodejsFunction, with the locally installed esbuild) and by
 * `npm run build` (scripts/build-handlers.ts). The AWS SDK v3 is left out: the Node.js 24 runtime provides it.
 */
export const HANDLER_BUNDLING = {
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  format: nodejs.OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  externalModules: ['@aws-sdk/*'],
  // Some dependencies still call require(); ESM bundles need it defined.
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
} as const satisfies nodejs.BundlingOptions;

export interface SwitchyardFunctionProps {
  /** The entry file, relative to the repository root (e.g. `entries/deploy-green.ts`). */
  readonly entry: string;
  readonly description: string;
  /** Powertools service name (`POWERTOOLS_SERVICE_NAME`), also the metrics namespace's dimension. */
  readonly serviceName: string;
  /** Powertools log level (`POWERTOOLS_LOG_LEVEL`), from the environment config's logging settings. */
  readonly logLevel: string;
  /** Retention of the function's own log group, from the environment config's logging settings. */
  readonly logRetention: logs.RetentionDays;
  /**
   * The port methods the function may call and the stack's resources they act on: its role gets exactly the
   * statements `grantStatements` builds for them, and the function the variables those grants read.
   * @default - no grants
   */
  readonly access?: { readonly grants: PortGrants; readonly resources: GrantResources };
  /**
   * Variables the handler reads, on top of the Powertools ones and those of its grants.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.DESTROY — handler logs follow the stack; release records live in the table
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * One of the service's handler functions with the project's defaults fixed: Node.js 24 on arm64, bundled by the
 * locally installed esbuild (minified, ESM, with source maps), X-Ray tracing, Powertools settings, an explicit log
 * group with retention, and a role of its own that may only write to that log group and to X-Ray. Whatever else
 * a function may call is granted by its caller, statement by statement.
 */
export class SwitchyardFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SwitchyardFunctionProps) {
    super(scope, id);
    if (!/\.ts$/.test(props.entry)) throw new Error(`entry must be a TypeScript file, got ${props.entry}`);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.serviceName}: ${props.description}`.slice(0, 1000),
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: [...PLATFORM_ACTIONS.logs],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, props.entry),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      handler: 'handler',
      description: props.description.slice(0, 256),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(60),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        POWERTOOLS_METRICS_NAMESPACE: 'Switchyard',
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.access ? grantEnvironment(props.access.grants, props.access.resources) : {}),
        ...props.environment,
      },
      bundling: { forceDockerBundling: false, ...HANDLER_BUNDLING },
    });
    if (props.access) {
      const statements = grantStatements(Stack.of(this), props.access.grants, props.access.resources);
      if (statements.length === 0) throw new Error(`${id} is granted nothing: check its grants`);
      for (const statement of statements) this.role.addToPrincipalPolicy(statement);
    }
  }
}
