/**
 * Lambda entry (`index.handler` in the container). Dependencies are built on the first invocation so the
 * environment is read once per instance, at cold start.
 */

import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import type { AppDeps } from './api.ts';
import { type AppConfig, loadAppConfig } from './app-config.ts';
import { type ClientKeyStore, fileKeyStore, secretsManagerKeyStore, unconfiguredKeyStore } from './client-keys.ts';
import { createHandler } from './handler.ts';
import type { ProxyResponse } from './http-response.ts';
import { InMemoryNonceCache, type NonceStore } from './nonce-cache.ts';
import { tracer } from './observability.ts';
import { OrderBook } from './orders.ts';
import { DynamoDbNonceStore, FileNonceStore } from './shared-nonce-stores.ts';

function keyStoreFor(config: AppConfig): ClientKeyStore {
  const source = config.keySource;
  switch (source.kind) {
    case 'file':
      return fileKeyStore(source.path);
    case 'secret': {
      const client = tracer.captureAWSv3Client(new SecretsManagerClient({}));
      return secretsManagerKeyStore({
        secretName: source.secretName,
        maxAgeSeconds: source.maxAgeSeconds,
        source: new SecretsProvider({ awsSdkV3Client: client }),
      });
    }
    case 'none':
      return unconfiguredKeyStore();
  }
}

function nonceStoreFor(config: AppConfig, nowSeconds: () => number): NonceStore {
  const source = config.nonceSource;
  switch (source.kind) {
    case 'table': {
      const client = tracer.captureAWSv3Client(new DynamoDBClient({}));
      return new DynamoDbNonceStore({ client, tableName: source.tableName, nowSeconds });
    }
    case 'directory':
      return new FileNonceStore({ dir: source.path, nowSeconds });
    case 'memory':
      return new InMemoryNonceCache({ nowSeconds });
  }
}

export function appDepsFromEnvironment(env: Readonly<Record<string, string | undefined>>): AppDeps {
  const config = loadAppConfig(env);
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  return {
    config,
    keys: keyStoreFor(config),
    nonces: nonceStoreFor(config, nowSeconds),
    orders: new OrderBook(),
    nowSeconds,
    random: Math.random,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

let instance: ((event: unknown, context?: Context) => Promise<ProxyResponse>) | undefined;

export async function handler(event: unknown, context?: Context): Promise<ProxyResponse> {
  instance ??= createHandler(appDepsFromEnvironment(process.env));
  return instance(event, context);
}
