import { createHash } from 'node:crypto';
import { AliasConflict } from '../../core/model/errors.ts';
import type {
  AliasRouting,
  AliasState,
  FunctionVersions,
  InvokeResult,
  PublishedVersion,
} from '../../core/ports/ports.ts';

/** Runs one published version of a function; the local runtime isolates each version in its own worker. */
export type VersionInvoker = (request: {
  functionName: string;
  /** What the caller asked for: an alias name or a version number (CloudWatch's Resource dimension). */
  qualifier: string;
  version: string;
  imageUri: string;
  payload: unknown;
  timeoutMs: number;
}) => Promise<InvokeResult>;

export class LambdaRuleViolation extends Error {
  override readonly name = 'InvalidParameterValueException';
}

export class FunctionNotFound extends Error {
  override readonly name = 'ResourceNotFoundException';
}

interface StoredVersion extends PublishedVersion {
  readonly imageUri: string;
}

interface StoredFunction {
  latestImageUri: string | undefined;
  readonly versions: StoredVersion[];
  readonly aliases: Map<string, AliasState>;
}

function digestOf(imageUri: string): string | undefined {
  return imageUri.split('@')[1];
}

/**
 * Lambda versions and aliases held in memory, under Lambda's rules: versions are immutable and numbered,
 * publishing unchanged code returns the latest version, aliases point at published versions only and route to at
 * most one more.
 */
export class MemoryFunctionVersions implements FunctionVersions {
  private readonly functions = new Map<string, StoredFunction>();
  /** Called after every function, version or alias change, before the call returns (the local runtime saves them). */
  onChange: (() => void) | undefined;
  constructor(private readonly invoker?: VersionInvoker) {}

  /** Creates an empty function (Terraform's job in the cloud). */
  createFunction(functionName: string): void {
    if (!this.functions.has(functionName)) {
      this.functions.set(functionName, { latestImageUri: undefined, versions: [], aliases: new Map() });
      this.onChange?.();
    }
  }

  /** Every function's versions and aliases, as JSON: the local runtime keeps them across restarts. */
  snapshot(): string {
    return JSON.stringify(
      [...this.functions].map(([name, fn]) => ({
        name,
        latestImageUri: fn.latestImageUri ?? null,
        versions: fn.versions,
        aliases: [...fn.aliases.values()],
      })),
    );
  }

  /** Loads what `snapshot` wrote (functions already present are replaced). */
  restore(snapshot: string): void {
    const functions = JSON.parse(snapshot) as {
      name: string;
      latestImageUri: string | null;
      versions: StoredVersion[];
      aliases: AliasState[];
    }[];
    for (const fn of functions) {
      this.functions.set(fn.name, {
        latestImageUri: fn.latestImageUri ?? undefined,
        versions: fn.versions,
        aliases: new Map(fn.aliases.map((a) => [a.name, a])),
      });
    }
  }

  hasFunction(functionName: string): boolean {
    return this.functions.has(functionName);
  }

  private fn(functionName: string): StoredFunction {
    const fn = this.functions.get(functionName);
    if (!fn) throw new FunctionNotFound(`Function not found: ${functionName}`);
    return fn;
  }

  private requireVersion(fn: StoredFunction, functionName: string, version: string): StoredVersion {
    const found = fn.versions.find((v) => v.version === version);
    if (!found) {
      throw new LambdaRuleViolation(`${functionName}: aliases may only point at published versions, not "${version}"`);
    }
    return found;
  }

  /** Undefined when the alias or the function does not exist, as GetAlias's ResourceNotFoundException reads. */
  async getAlias(functionName: string, alias: string): Promise<AliasState | undefined> {
    const state = this.functions.get(functionName)?.aliases.get(alias);
    return state ? structuredClone(state) : undefined;
  }

  async versionImageDigest(functionName: string, version: string): Promise<string | undefined> {
    const found = this.fn(functionName).versions.find((v) => v.version === version);
    return found ? digestOf(found.imageUri) : undefined;
  }

  async publishedVersion(functionName: string, version: string): Promise<PublishedVersion | undefined> {
    const found = this.fn(functionName).versions.find((v) => v.version === version);
    return found ? { version: found.version, description: found.description, codeSha256: found.codeSha256 } : undefined;
  }

  /** Every published version's number, in order, with its description (tests read what a release published). */
  versionsOf(functionName: string): PublishedVersion[] {
    return this.fn(functionName).versions.map(({ version, description, codeSha256 }) => ({
      version,
      description,
      codeSha256,
    }));
  }

  async updateCodeAndWait(functionName: string, imageUri: string): Promise<{ codeSha256: string }> {
    const fn = this.fn(functionName);
    fn.latestImageUri = imageUri;
    this.onChange?.();
    return { codeSha256: createHash('sha256').update(imageUri).digest('base64') };
  }

  async publishVersion(functionName: string, description: string, codeSha256: string): Promise<PublishedVersion> {
    const fn = this.fn(functionName);
    if (!fn.latestImageUri) throw new LambdaRuleViolation(`${functionName} has no code to publish`);
    const current = createHash('sha256').update(fn.latestImageUri).digest('base64');
    if (current !== codeSha256) {
      throw new LambdaRuleViolation(`CodeSha256 ${codeSha256} does not match $LATEST (${current})`);
    }
    const latest = fn.versions.at(-1);
    if (latest && latest.codeSha256 === codeSha256) {
      return { version: latest.version, description: latest.description, codeSha256 };
    }
    const version = String(fn.versions.length + 1);
    fn.versions.push({ version, description, codeSha256, imageUri: fn.latestImageUri });
    this.onChange?.();
    return { version, description, codeSha256 };
  }

  async updateAlias(
    functionName: string,
    alias: string,
    version: string,
    routing?: AliasRouting,
    expected?: AliasState,
  ): Promise<void> {
    const fn = this.fn(functionName);
    const current = fn.aliases.get(alias);
    if (!current) throw new FunctionNotFound(`Alias not found: ${functionName}:${alias}`);
    // No revision ids here: the alias as the caller read it stands for one, as Lambda's RevisionId does.
    const same = (a: AliasState, b: AliasState) =>
      a.version === b.version && a.routing?.version === b.routing?.version && a.routing?.weight === b.routing?.weight;
    if (expected && !same(current, expected)) {
      throw new AliasConflict(`alias ${alias} of ${functionName} changed since it was read`, {
        functionName,
        alias,
        targetVersion: version,
        readVersion: expected.version,
      });
    }
    this.setAlias(fn, functionName, alias, version, routing);
  }

  async ensureAlias(functionName: string, alias: string, version: string): Promise<void> {
    this.setAlias(this.fn(functionName), functionName, alias, version, undefined);
  }

  private setAlias(fn: StoredFunction, functionName: string, alias: string, version: string, routing?: AliasRouting) {
    this.requireVersion(fn, functionName, version);
    if (routing) {
      this.requireVersion(fn, functionName, routing.version);
      if (routing.version === version) throw new LambdaRuleViolation('an alias cannot route to its own version');
      if (!(routing.weight > 0 && routing.weight < 1)) {
        throw new LambdaRuleViolation(`routing weight must be between 0 and 1, got ${routing.weight}`);
      }
    }
    fn.aliases.set(alias, { name: alias, version, ...(routing ? { routing: { ...routing } } : {}) });
    this.onChange?.();
  }

  /** Picks the version an alias invocation runs, weighted as Lambda does. */
  resolveQualifier(functionName: string, qualifier: string, random: () => number = Math.random): string {
    const fn = this.fn(functionName);
    const alias = fn.aliases.get(qualifier);
    if (!alias) {
      this.requireVersion(fn, functionName, qualifier);
      return qualifier;
    }
    if (alias.routing && random() < alias.routing.weight) return alias.routing.version;
    return alias.version;
  }

  imageUriOf(functionName: string, version: string): string {
    const fn = this.fn(functionName);
    return this.requireVersion(fn, functionName, version).imageUri;
  }

  async invoke(functionName: string, qualifier: string, payload: unknown, timeoutMs: number): Promise<InvokeResult> {
    if (!this.invoker) throw new LambdaRuleViolation('no invoker is configured for local invocations');
    const version = this.resolveQualifier(functionName, qualifier);
    return this.invoker({
      functionName,
      qualifier,
      version,
      imageUri: this.imageUriOf(functionName, version),
      payload,
      timeoutMs,
    });
  }
}
