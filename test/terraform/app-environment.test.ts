// biome-ignore-all lint/suspicious/noTemplateCurlyInString: HCL expressions are "${...}" strings, not JS templates.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES, environments } from '../../config/environments.ts';
import { terraformVariables } from '../../scripts/generate-tfvars.ts';
import { terraformSourceFiles } from '../../scripts/terraform-fmt.ts';
import { environmentsWith } from '../support/environments.ts';
import { type Body, block, blocks, field, loadModule, locals, MODULE_DIR, resource } from './terraform-config.ts';
import { effectiveRules } from './web-acl.ts';

let config: Body;

beforeAll(async () => {
  config = await loadModule(MODULE_DIR);
});

function env(name: (typeof ENVIRONMENT_NAMES)[number]) {
  const found = environments[name];
  if (!found) throw new Error(`no ${name} environment in config`);
  return found;
}

const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesSQLiRuleSet',
];

describe('the function', () => {
  it('runs the image on arm64 with the memory and log retention the environment variables give it', () => {
    const fn = resource(config, 'aws_lambda_function', 'this');
    expect(fn).toMatchObject({
      package_type: 'Image',
      image_uri: '${var.image_uri}',
      architectures: ['arm64'],
      memory_size: '${var.memory_mb}',
      function_name: '${var.function_name}',
      publish: true,
    });
    expect(resource(config, 'aws_cloudwatch_log_group', 'function')).toMatchObject({
      name: '/aws/lambda/${var.function_name}',
      retention_in_days: '${var.log_retention_days}',
    });
    expect(block(fn, 'logging_config').log_group).toBe('${aws_cloudwatch_log_group.function.name}');
  });

  it("lets Lambda's log filter pass the level-less EMF lines that carry the 5xx metric, whatever the log level", () => {
    const fn = resource(config, 'aws_lambda_function', 'this');
    // Lambda gives a JSON line without "level" the level INFO; only Powertools filters by the configured level.
    expect(block(fn, 'logging_config').application_log_level).toBe('${local.application_log_level}');
    expect(locals(config).application_log_level).toBe('${var.log_level == "DEBUG" ? "DEBUG" : "INFO"}');
    expect(locals(config).function_variables).toMatchObject({ POWERTOOLS_LOG_LEVEL: '${var.log_level}' });
    expect(block(fn, 'environment').variables).toBe(
      '${merge(local.function_variables, { POWERTOOLS_SERVICE_NAME = var.function_name })}',
    );
    expect(env('dev').logging).toBe('basic');
  });

  it("refuses what prod's WAF would block: bodies over the Common Rule Set's 8 KB, with the app's own 413", () => {
    const fn = resource(config, 'aws_lambda_function', 'this');
    expect(block(fn, 'environment').variables).toMatch(/^\$\{merge\(local\.function_variables, /);
    expect(locals(config).function_variables).toMatchObject({ MAX_BODY_BYTES: '8192' });
    const groups = locals(config).waf_managed_rule_groups as { name: string }[];
    expect(groups.map((g) => g.name)).toContain('AWSManagedRulesCommonRuleSet');
  });

  it('ignores its image URI, which the state machine owns', () => {
    const fn = resource(config, 'aws_lambda_function', 'this');
    expect(block(fn, 'lifecycle').ignore_changes).toEqual(['${image_uri}']);
  });

  it('has a role that writes only its own logs and reads only its own secret', () => {
    const policy = block(field(config, 'data', 'aws_iam_policy_document'), 'function');
    const statements = blocks(policy, 'statement');
    const bySid = Object.fromEntries(statements.map((s) => [s.sid, s]));
    // Its own log group and each fleet member's, which share the role.
    expect(bySid.WriteOwnLogs?.resources).toBe(
      '${concat(\n      ["${aws_cloudwatch_log_group.function.arn}:*"],\n      [for group in aws_cloudwatch_log_group.member : "${group.arn}:*"],\n    )}',
    );
    expect(bySid.ReadClientKeys).toMatchObject({
      actions: ['secretsmanager:GetSecretValue'],
      resources: ['${aws_secretsmanager_secret.client_keys.arn}'],
    });
    expect(bySid.DecryptClientKeysThroughSecretsManager?.resources).toEqual(['${aws_kms_key.secrets.arn}']);
    for (const statement of statements) {
      expect(statement.actions, `statement ${String(statement.sid)}`).not.toContainEqual(expect.stringMatching(/\*/));
      const wildcardResource = JSON.stringify(statement.resources) === '["*"]';
      // X-Ray's write actions have no resource-level permissions; nothing else may use "*".
      expect(wildcardResource ? statement.sid : 'scoped').toMatch(/^(WriteTraces|scoped)$/);
    }
  });
});

describe('the aliases', () => {
  it('are live, blue and green in every environment, from the generated variables', () => {
    for (const name of ENVIRONMENT_NAMES) {
      expect(Object.keys(terraformVariables(env(name)).aliases).sort()).toEqual(['blue', 'green', 'live']);
    }
    const alias = resource(config, 'aws_lambda_alias', 'this');
    expect(alias).toMatchObject({ for_each: '${var.aliases}', name: '${each.value}' });
  });

  it('each ignore their version and routing, which the state machine moves', () => {
    const alias = resource(config, 'aws_lambda_alias', 'this');
    expect(block(alias, 'lifecycle').ignore_changes).toEqual(['${function_version}', '${routing_config}']);
  });
});

describe('fleet members', () => {
  it('run the same image as the environment function, each with its own name, memory and log group', () => {
    const fn = resource(config, 'aws_lambda_function', 'member');
    const own = resource(config, 'aws_lambda_function', 'this');
    expect(fn).toMatchObject({
      for_each: '${var.fleet_members}',
      function_name: '${each.value.function_name}',
      memory_size: '${each.value.memory_mb}',
      image_uri: own.image_uri,
      package_type: own.package_type,
      architectures: own.architectures,
      role: own.role,
      publish: true,
    });
    expect(block(fn, 'environment').variables).toBe(
      '${merge(local.function_variables, { POWERTOOLS_SERVICE_NAME = each.value.function_name })}',
    );
    expect(block(fn, 'logging_config')).toEqual({
      ...block(own, 'logging_config'),
      log_group: '${aws_cloudwatch_log_group.member[each.key].name}',
    });
    expect(block(fn, 'tracing_config')).toEqual(block(own, 'tracing_config'));
    expect(block(fn, 'lifecycle').ignore_changes).toEqual(['${image_uri}']);
    expect(resource(config, 'aws_cloudwatch_log_group', 'member')).toMatchObject({
      for_each: '${var.fleet_members}',
      name: '/aws/lambda/${each.value.function_name}',
      retention_in_days: '${var.log_retention_days}',
    });
  });

  it('each get their live, blue and green aliases under their own names, left to the state machine to move', () => {
    const alias = resource(config, 'aws_lambda_alias', 'member');
    expect(alias).toMatchObject({
      for_each: '${local.member_aliases}',
      name: '${each.value.name}',
      function_name: '${aws_lambda_function.member[each.value.member].function_name}',
    });
    expect(block(alias, 'lifecycle').ignore_changes).toEqual(['${function_version}', '${routing_config}']);
  });

  it("come from the config's fleet, without the environment's own function, with its memory and aliases by default", () => {
    const fleetEnv = environmentsWith('prod', {
      lockTtlMinutes: 6 * 60,
      fleet: {
        deployConcurrency: 2,
        waves: [{ members: 1 }, { percent: 100 }],
        members: [
          { name: 'own', functionName: env('prod').functionName },
          { name: 'eu', functionName: 'switchyard-api-prod-eu', memoryMb: 1024 },
          {
            name: 'us',
            functionName: 'switchyard-api-prod-us',
            aliases: { live: 'us-live', green: 'us-green', blue: 'us-blue' },
          },
        ],
      },
    }).prod;
    if (!fleetEnv) throw new Error('no prod');
    expect(terraformVariables(fleetEnv).fleet_members).toEqual({
      eu: {
        function_name: 'switchyard-api-prod-eu',
        memory_mb: 1024,
        aliases: { live: 'live', blue: 'blue', green: 'green' },
      },
      us: {
        function_name: 'switchyard-api-prod-us',
        memory_mb: env('prod').memoryMb,
        aliases: { live: 'us-live', blue: 'us-blue', green: 'us-green' },
      },
    });
    expect(terraformVariables(env('prod')).fleet_members).toEqual({});
  });
});

describe('the API', () => {
  it('is a regional REST API, never an HTTP API (WAF cannot attach to one)', async () => {
    const api = resource(config, 'aws_api_gateway_rest_api', 'this');
    expect(block(api, 'endpoint_configuration').types).toEqual(['REGIONAL']);
    for (const path of await terraformSourceFiles(MODULE_DIR)) {
      expect(await readFile(path, 'utf8'), path).not.toMatch(/aws_apigatewayv2_/);
    }
  });

  it("proxies every path and the root to the stage's alias (a stage variable), never the unqualified function", () => {
    expect(locals(config).live_alias).toBe('${aws_lambda_alias.this["live"]}');
    expect(locals(config).green_alias).toBe('${aws_lambda_alias.this["green"]}');
    expect(String(locals(config).alias_invoke_uri)).toMatch(
      /lambda:path\/.*2015-03-31\/functions\/\$\{aws_lambda_function\.this\.arn\}:\$\$\{stageVariables\.alias\}\/invocations/s,
    );
    const integrations = field(config, 'resource', 'aws_api_gateway_integration');
    expect(Object.keys(integrations).sort()).toEqual(['proxy', 'root']);
    for (const name of ['proxy', 'root']) {
      expect(block(integrations, name)).toMatchObject({
        type: 'AWS_PROXY',
        integration_http_method: 'POST',
        uri: '${local.alias_invoke_uri}',
      });
    }
    expect(resource(config, 'aws_api_gateway_resource', 'proxy').path_part).toBe('{proxy+}');
  });

  it("serves the environment's stage from live and a green stage from green, on one deployment", () => {
    const live = resource(config, 'aws_api_gateway_stage', 'this');
    const green = resource(config, 'aws_api_gateway_stage', 'green');
    expect(live).toMatchObject({ stage_name: '${var.environment}', variables: { alias: '${local.live_alias.name}' } });
    expect(green).toMatchObject({ stage_name: 'green', variables: { alias: '${local.green_alias.name}' } });
    expect(green.deployment_id).toBe(live.deployment_id);
    expect(resource(config, 'aws_api_gateway_method_settings', 'green').stage_name).toBe(
      '${aws_api_gateway_stage.green.stage_name}',
    );
    const outputs = field(config, 'output');
    expect(block(outputs, 'green_stage_url').value).toBe('${aws_api_gateway_stage.green.invoke_url}');
  });

  it('redeploys when an integration URI changes', () => {
    const triggers = JSON.stringify(resource(config, 'aws_api_gateway_deployment', 'this').triggers);
    expect(triggers).toContain('aws_api_gateway_integration.proxy.uri');
    expect(triggers).toContain('aws_api_gateway_integration.root.uri');
  });

  it('lets API Gateway invoke each alias only from its own stage', () => {
    expect(resource(config, 'aws_lambda_permission', 'api_invokes_live')).toMatchObject({
      action: 'lambda:InvokeFunction',
      principal: 'apigateway.amazonaws.com',
      qualifier: '${local.live_alias.name}',
      source_arn: '${aws_api_gateway_rest_api.this.execution_arn}/${var.environment}/*/*',
    });
    expect(resource(config, 'aws_lambda_permission', 'api_invokes_green')).toMatchObject({
      action: 'lambda:InvokeFunction',
      principal: 'apigateway.amazonaws.com',
      qualifier: '${local.green_alias.name}',
      source_arn: '${aws_api_gateway_rest_api.this.execution_arn}/green/*/*',
    });
  });

  it('has a stage with JSON access logs and throttling on every method', () => {
    const stage = resource(config, 'aws_api_gateway_stage', 'this');
    expect(block(stage, 'access_log_settings').destination_arn).toBe('${aws_cloudwatch_log_group.api_access.arn}');
    expect(String(block(stage, 'access_log_settings').format)).toMatch(/jsonencode\(.*\$context\.requestId/s);
    const settings = resource(config, 'aws_api_gateway_method_settings', 'all');
    expect(settings.method_path).toBe('*/*');
    expect(block(settings, 'settings')).toMatchObject({
      throttling_rate_limit: '${var.throttling_rate_limit}',
      throttling_burst_limit: '${var.throttling_burst_limit}',
    });
  });
});

describe('the web ACL', () => {
  it('is regional and associated with both API stages, live and green', () => {
    expect(resource(config, 'aws_wafv2_web_acl', 'this').scope).toBe('REGIONAL');
    expect(resource(config, 'aws_wafv2_web_acl_association', 'api_stage')).toMatchObject({
      resource_arn: '${aws_api_gateway_stage.this.arn}',
      web_acl_arn: '${aws_wafv2_web_acl.this.arn}',
    });
    expect(resource(config, 'aws_wafv2_web_acl_association', 'api_green_stage')).toMatchObject({
      resource_arn: '${aws_api_gateway_stage.green.arn}',
      web_acl_arn: '${aws_wafv2_web_acl.this.arn}',
    });
  });

  it('carries exactly the six rule sets, all enforced, in prod', () => {
    const rules = effectiveRules(config, terraformVariables(env('prod')));
    expect(rules.map((r) => r.name).sort()).toEqual(['geo-block', 'rate-limit-per-ip', ...MANAGED_RULE_GROUPS].sort());
    for (const rule of rules) {
      expect(rule.action, rule.name).toBe(rule.name.startsWith('AWSManagedRules') ? 'none' : 'block');
    }
    expect(new Set(rules.map((r) => r.priority)).size).toBe(rules.length);
  });

  it('carries the same six rule sets in dev and staging, only counting', () => {
    for (const name of ['dev', 'staging'] as const) {
      const vars = terraformVariables(env(name));
      expect(vars.waf_mode).toBe('count');
      const rules = effectiveRules(config, vars);
      expect(rules.map((r) => r.name).sort()).toEqual(
        ['geo-block', 'rate-limit-per-ip', ...MANAGED_RULE_GROUPS].sort(),
      );
      expect(rules.every((r) => r.action === 'count')).toBe(true);
    }
  });

  it('has no geo rule when an environment lists no countries (AWS refuses an empty geo match)', () => {
    const rules = effectiveRules(config, { ...terraformVariables(env('dev')), waf_blocked_countries: [] });
    expect(rules.map((r) => r.name)).not.toContain('geo-block');
  });

  it('turns on the geo rule with the countries from config', () => {
    const vars = { ...terraformVariables(env('staging')), waf_blocked_countries: ['KP'] };
    const geo = effectiveRules(config, vars).find((r) => r.name === 'geo-block');
    expect(geo?.action).toBe('count');
    expect(block(geo?.statement ?? {}, 'geo_match_statement').country_codes).toEqual(['KP']);
    const prodGeo = effectiveRules(config, terraformVariables(env('prod'))).find((r) => r.name === 'geo-block');
    expect(block(prodGeo?.statement ?? {}, 'geo_match_statement').country_codes).toEqual(['KP', 'IR']);
  });

  it('rate-limits each IP to 2000 requests per 5 minutes', () => {
    const rule = effectiveRules(config, terraformVariables(env('prod'))).find((r) => r.name === 'rate-limit-per-ip');
    expect(block(rule?.statement ?? {}, 'rate_based_statement')).toEqual({
      limit: '${var.waf_rate_limit_per_5_minutes}',
      evaluation_window_sec: 300,
      aggregate_key_type: 'IP',
    });
    for (const name of ENVIRONMENT_NAMES) {
      expect(terraformVariables(env(name)).waf_rate_limit_per_5_minutes).toBe(2000);
    }
  });

  it('uses the AWS managed rule groups by their vendor names', () => {
    const managed = effectiveRules(config, terraformVariables(env('prod'))).filter((r) =>
      r.name.startsWith('AWSManagedRules'),
    );
    for (const rule of managed) {
      expect(block(rule.statement, 'managed_rule_group_statement')).toEqual({ vendor_name: 'AWS', name: rule.name });
    }
  });
});

describe('the nonce table', () => {
  it('keys on the nonce digest, expires items by TTL on expiresAt, and is encrypted', () => {
    const table = resource(config, 'aws_dynamodb_table', 'nonces');
    expect(table).toMatchObject({
      name: '${var.function_name}-nonces',
      billing_mode: 'PAY_PER_REQUEST',
      hash_key: 'pk',
      attribute: [{ name: 'pk', type: 'S' }],
      ttl: [{ attribute_name: 'expiresAt', enabled: true }],
      server_side_encryption: [{ enabled: true }],
    });
  });

  it('is named to every function of the environment, and its role may only PutItem on it', () => {
    expect(locals(config).function_variables).toMatchObject({
      SWITCHYARD_NONCE_TABLE: '${aws_dynamodb_table.nonces.name}',
    });
    const policy = block(field(config, 'data', 'aws_iam_policy_document'), 'function');
    const remember = blocks(policy, 'statement').filter((s) => JSON.stringify(s).includes('dynamodb'));
    expect(remember).toEqual([
      { sid: 'RememberNonces', actions: ['dynamodb:PutItem'], resources: ['${aws_dynamodb_table.nonces.arn}'] },
    ]);
  });
});

describe('the client-keys secret', () => {
  it('is encrypted with its own rotating KMS key', () => {
    expect(resource(config, 'aws_secretsmanager_secret', 'client_keys').kms_key_id).toBe('${aws_kms_key.secrets.arn}');
    expect(resource(config, 'aws_kms_key', 'secrets').enable_key_rotation).toBe(true);
  });

  it('never has its value in Terraform', async () => {
    expect(Object.keys(field(config, 'resource'))).not.toContain('aws_secretsmanager_secret_version');
    const terraformDir = join(MODULE_DIR, '..', '..');
    for (const path of await terraformSourceFiles(terraformDir)) {
      expect(await readFile(path, 'utf8'), path).not.toMatch(
        /secret_string|secret_binary|secretsmanager_secret_version/,
      );
    }
  });
});

describe('the alarms', () => {
  it('are created one per configured name, and notify the alerts topic', () => {
    const alarm = resource(config, 'aws_cloudwatch_metric_alarm', 'health');
    expect(alarm).toMatchObject({
      for_each: '${var.alarms}',
      alarm_name: '${each.key}',
      threshold: '${each.value.threshold}',
      alarm_actions: ['${var.alerts_topic_arn}'],
    });
  });

  it('watch API 5xx, and the errors and p99 duration of the live alias', () => {
    const metrics = field(locals(config), 'alarm_metrics');
    expect(Object.keys(metrics).sort()).toEqual(['5xx', 'errors', 'latency']);
    expect(field(metrics, '5xx')).toMatchObject({ namespace: 'AWS/ApiGateway', metric_name: '5XXError' });
    expect(field(metrics, 'errors')).toMatchObject({ namespace: 'AWS/Lambda', metric_name: 'Errors' });
    expect(field(metrics, 'latency')).toMatchObject({ metric_name: 'Duration', extended_statistic: 'p99' });
    expect(field(metrics, 'errors', 'dimensions').Resource).toBe('${local.live_alias_resource}');
    expect(locals(config).live_alias_resource).toBe('${var.function_name}:${var.aliases["live"]}');
  });
});
