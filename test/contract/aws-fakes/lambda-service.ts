import { createHash, randomUUID } from 'node:crypto';
import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvalidParameterValueException,
  InvokeCommand,
  type InvokeCommandOutput,
  type LambdaClient,
  ListVersionsByFunctionCommand,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';

interface Version {
  readonly Version: string;
  readonly Description: string;
  readonly CodeSha256: string;
  readonly ImageUri: string;
}

interface FakeFunction {
  latest: { ImageUri: string; CodeSha256: string } | undefined;
  /** GetFunction polls left before an update reports Successful, as Lambda takes a moment. */
  pollsUntilUpdated: number;
  readonly versions: Version[];
  /** Each alias's RevisionId changes on every update, as Lambda's does. */
  readonly aliases: Map<string, { FunctionVersion: string; weights: Record<string, number>; RevisionId: string }>;
}

/** Versions listed per ListVersionsByFunction page: small, so the adapter's pagination is exercised. */
const PAGE_SIZE = 2;

const notFound = (message: string) => new ResourceNotFoundException({ message, $metadata: {} });
const invalid = (message: string) => new InvalidParameterValueException({ message, $metadata: {} });
const codeSha = (imageUri: string) => createHash('sha256').update(imageUri).digest('base64');

/**
 * A stateful stand-in for the Lambda API behind a LambdaClient: functions with $LATEST, numbered immutable versions
 * and aliases, under the rules the release logic meets in the cloud (updates settle after a poll, PublishVersion
 * checks CodeSha256 and returns the latest version for unchanged code, aliases point at published versions only).
 * Invocations answer `{ version, echo: payload }`.
 */
export function fakeLambdaService(client: LambdaClient, functionNames: readonly string[]): void {
  const functions = new Map<string, FakeFunction>(
    functionNames.map((name) => [name, { latest: undefined, pollsUntilUpdated: 0, versions: [], aliases: new Map() }]),
  );
  const fn = (name: string | undefined) => {
    const found = functions.get(name ?? '');
    if (!found) throw notFound(`Function not found: ${name}`);
    return found;
  };
  const version = (f: FakeFunction, qualifier: string | undefined) => {
    const found = f.versions.find((v) => v.Version === qualifier);
    if (!found) throw notFound(`Function version not found: ${qualifier}`);
    return found;
  };
  const status = (f: FakeFunction) => (f.pollsUntilUpdated > 0 ? 'InProgress' : 'Successful');
  const checkWeights = (f: FakeFunction, target: string, weights: Record<string, number>) => {
    version(f, target);
    const entries = Object.entries(weights);
    if (entries.length > 1) throw invalid('an alias routes to at most one additional version');
    for (const [v, weight] of entries) {
      version(f, v);
      if (v === target) throw invalid('an alias cannot route to its own version');
      if (!(weight > 0 && weight < 1)) throw invalid(`weight ${weight} must be between 0 and 1`);
    }
  };

  const mock = mockClient(client);
  mock.on(UpdateFunctionCodeCommand).callsFake((input: UpdateFunctionCodeCommand['input']) => {
    const f = fn(input.FunctionName);
    if (f.pollsUntilUpdated > 0) throw new ResourceConflictException({ message: 'update in progress', $metadata: {} });
    if (!input.ImageUri) throw invalid('ImageUri is required for an image function');
    f.latest = { ImageUri: input.ImageUri, CodeSha256: codeSha(input.ImageUri) };
    f.pollsUntilUpdated = 1;
    return { LastUpdateStatus: 'InProgress' };
  });
  mock.on(GetFunctionCommand).callsFake((input: GetFunctionCommand['input']) => {
    const f = fn(input.FunctionName);
    if (input.Qualifier && input.Qualifier !== '$LATEST') {
      const v = version(f, input.Qualifier);
      return {
        Configuration: {
          Version: v.Version,
          Description: v.Description,
          CodeSha256: v.CodeSha256,
          LastUpdateStatus: 'Successful',
        },
        Code: { ImageUri: v.ImageUri, ResolvedImageUri: v.ImageUri },
      };
    }
    const reported = status(f);
    f.pollsUntilUpdated = Math.max(0, f.pollsUntilUpdated - 1);
    return {
      Configuration: { Version: '$LATEST', CodeSha256: f.latest?.CodeSha256, LastUpdateStatus: reported },
      Code: { ImageUri: f.latest?.ImageUri, ResolvedImageUri: f.latest?.ImageUri },
    };
  });
  mock.on(GetFunctionConfigurationCommand).callsFake((input: GetFunctionConfigurationCommand['input']) => {
    const f = fn(input.FunctionName);
    return { Version: '$LATEST', CodeSha256: f.latest?.CodeSha256, LastUpdateStatus: status(f) };
  });
  mock.on(PublishVersionCommand).callsFake((input: PublishVersionCommand['input']) => {
    const f = fn(input.FunctionName);
    if (!f.latest) throw invalid('no code to publish');
    if (f.pollsUntilUpdated > 0) throw new ResourceConflictException({ message: 'update in progress', $metadata: {} });
    if (input.CodeSha256 && input.CodeSha256 !== f.latest.CodeSha256) {
      throw invalid(`CodeSha256 ${input.CodeSha256} does not match $LATEST`);
    }
    const newest = f.versions.at(-1);
    if (newest && newest.CodeSha256 === f.latest.CodeSha256) return { ...newest };
    const published = {
      Version: String(f.versions.length + 1),
      Description: input.Description ?? '',
      CodeSha256: f.latest.CodeSha256,
      ImageUri: f.latest.ImageUri,
    };
    f.versions.push(published);
    return { ...published };
  });
  mock.on(ListVersionsByFunctionCommand).callsFake((input: ListVersionsByFunctionCommand['input']) => {
    const f = fn(input.FunctionName);
    const all = [
      { Version: '$LATEST', Description: '', CodeSha256: f.latest?.CodeSha256 },
      ...f.versions.map((v) => ({ Version: v.Version, Description: v.Description, CodeSha256: v.CodeSha256 })),
    ];
    const start = Number(input.Marker ?? 0);
    const size = Math.min(PAGE_SIZE, input.MaxItems ?? PAGE_SIZE);
    const next = start + size;
    return { Versions: all.slice(start, next), ...(next < all.length ? { NextMarker: String(next) } : {}) };
  });
  mock.on(GetAliasCommand).callsFake((input: GetAliasCommand['input']) => {
    const alias = fn(input.FunctionName).aliases.get(input.Name ?? '');
    if (!alias) throw notFound(`Alias not found: ${input.Name}`);
    return {
      Name: input.Name,
      FunctionVersion: alias.FunctionVersion,
      RevisionId: alias.RevisionId,
      ...(Object.keys(alias.weights).length > 0 ? { RoutingConfig: { AdditionalVersionWeights: alias.weights } } : {}),
    };
  });
  mock.on(UpdateAliasCommand).callsFake((input: UpdateAliasCommand['input']) => {
    const f = fn(input.FunctionName);
    const alias = f.aliases.get(input.Name ?? '');
    if (!alias) throw notFound(`Alias not found: ${input.Name}`);
    if (input.RevisionId !== undefined && input.RevisionId !== alias.RevisionId) {
      throw new PreconditionFailedException({
        message: 'The Revision Id provided does not match the latest Revision Id.',
        $metadata: { httpStatusCode: 412 },
      });
    }
    const target = input.FunctionVersion ?? alias.FunctionVersion;
    // Leaving RoutingConfig out keeps the old split; an empty weight map clears it.
    const weights = input.RoutingConfig ? { ...input.RoutingConfig.AdditionalVersionWeights } : alias.weights;
    checkWeights(f, target, weights);
    const RevisionId = randomUUID();
    f.aliases.set(input.Name ?? '', { FunctionVersion: target, weights, RevisionId });
    return { Name: input.Name, FunctionVersion: target, RevisionId };
  });
  mock.on(CreateAliasCommand).callsFake((input: CreateAliasCommand['input']) => {
    const f = fn(input.FunctionName);
    if (f.aliases.has(input.Name ?? '')) {
      throw new ResourceConflictException({ message: `Alias already exists: ${input.Name}`, $metadata: {} });
    }
    const weights = { ...input.RoutingConfig?.AdditionalVersionWeights };
    checkWeights(f, input.FunctionVersion ?? '', weights);
    f.aliases.set(input.Name ?? '', {
      FunctionVersion: input.FunctionVersion ?? '',
      weights,
      RevisionId: randomUUID(),
    });
    return { Name: input.Name, FunctionVersion: input.FunctionVersion };
  });
  mock.on(InvokeCommand).callsFake((input: InvokeCommand['input']) => {
    const f = fn(input.FunctionName);
    const alias = f.aliases.get(input.Qualifier ?? '');
    const target = version(f, alias ? alias.FunctionVersion : input.Qualifier);
    const bytes =
      input.Payload instanceof Uint8Array ? input.Payload : new TextEncoder().encode(String(input.Payload ?? ''));
    const payload: unknown = bytes.length > 0 ? JSON.parse(new TextDecoder().decode(bytes)) : undefined;
    const answer = new TextEncoder().encode(JSON.stringify({ version: target.Version, echo: payload }));
    return { StatusCode: 200, ExecutedVersion: target.Version, Payload: answer as InvokeCommandOutput['Payload'] };
  });
}
