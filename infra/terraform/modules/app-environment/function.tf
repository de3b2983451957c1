# The region from an ARN the module creates: aws_region's `name` is deprecated in provider 6.0 and its `region` does
# not exist in 5.x, so neither works across the supported range (docs/terraform.md, "Provider versions").
locals {
  region = split(":", aws_kms_key.secrets.arn)[3]
}

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = "${var.function_name}-function"
  description        = "Runs ${var.function_name}: its own logs, traces, client-keys secret and nonce table, nothing else."
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

data "aws_iam_policy_document" "function" {
  statement {
    sid     = "WriteOwnLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = concat(
      ["${aws_cloudwatch_log_group.function.arn}:*"],
      [for group in aws_cloudwatch_log_group.member : "${group.arn}:*"],
    )
  }

  statement {
    sid       = "ReadClientKeys"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.client_keys.arn]
  }

  statement {
    sid       = "DecryptClientKeysThroughSecretsManager"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.secrets.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }

  # The conditional put that remembers a nonce (nonces.tf); the app never reads, updates or deletes an item.
  statement {
    sid       = "RememberNonces"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.nonces.arn]
  }

  # X-Ray has no resource-level permissions for writing segments.
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "least-privilege"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "this" {
  function_name = var.function_name
  description   = "${var.application} (${var.environment}); code is released by Switchyard, not Terraform."
  role          = aws_iam_role.function.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = ["arm64"]
  memory_size   = var.memory_mb
  timeout       = var.timeout_seconds

  # Aliases may only point at published versions; the first one comes from here.
  publish = true

  environment {
    variables = merge(local.function_variables, { POWERTOOLS_SERVICE_NAME = var.function_name })
  }

  # Powertools filters the application's own log lines by POWERTOOLS_LOG_LEVEL. Lambda's filter must let INFO
  # through: "If the "level" value field is invalid or missing, Lambda will assign the log output the level INFO"
  # (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html), and the EMF lines
  # that carry the application's 5xx metric have no level, so a WARN filter would drop every one of them.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function.name
    application_log_level = local.application_log_level
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = "Active"
  }

  lifecycle {
    # The state machine deploys code (UpdateFunctionCode + PublishVersion); Terraform must not roll it back.
    ignore_changes = [image_uri]
  }

  depends_on = [aws_iam_role_policy.function]
}

locals {
  # Every function of the environment (its own and each fleet member) runs the same application with these.
  function_variables = {
    SWITCHYARD_ENVIRONMENT  = var.environment
    POWERTOOLS_LOG_LEVEL    = var.log_level
    CLIENT_KEYS_SECRET_NAME = aws_secretsmanager_secret.client_keys.arn
    SWITCHYARD_NONCE_TABLE  = aws_dynamodb_table.nonces.name
    # The web ACL's AWSManagedRulesCommonRuleSet (SizeRestrictions_BODY) blocks bodies over 8 KB in prod; the app
    # refuses them itself with a precise 413 in every environment, so dev and staging (WAF counting only) show
    # what prod's WAF would stop: "La regla SizeRestrictions_BODY … comprueba los cuerpos de las solicitudes que
    # superan los 8 KB (8192 bytes). Los cuerpos de solicitudes superiores a 8 KB se bloquean."
    # (https://repost.aws/es/knowledge-center/waf-http-request-body-inspection)
    MAX_BODY_BYTES = "8192"
  }
  application_log_level = var.log_level == "DEBUG" ? "DEBUG" : "INFO"
}

resource "aws_lambda_alias" "this" {
  for_each = var.aliases

  name             = each.value
  description      = "Switchyard ${each.key} alias; the state machine moves its version and routing."
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version

  lifecycle {
    # Which version serves, and with what weights, belongs to the release in progress.
    ignore_changes = [function_version, routing_config]
  }
}

# Fleet members (config fleet.members, docs/fleet.md): the same image as the environment's function, each with its
# own log group and aliases, released by Switchyard as one fleet release. They share the function role, whose log
# statement names every member's log group.
resource "aws_cloudwatch_log_group" "member" {
  for_each = var.fleet_members

  name              = "/aws/lambda/${each.value.function_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "member" {
  for_each = var.fleet_members

  function_name = each.value.function_name
  description   = "${var.application} (${var.environment}) fleet member ${each.key}; code is released by Switchyard, not Terraform."
  role          = aws_iam_role.function.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = ["arm64"]
  memory_size   = each.value.memory_mb
  timeout       = var.timeout_seconds
  publish       = true

  environment {
    variables = merge(local.function_variables, { POWERTOOLS_SERVICE_NAME = each.value.function_name })
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.member[each.key].name
    application_log_level = local.application_log_level
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = "Active"
  }

  lifecycle {
    ignore_changes = [image_uri]
  }

  depends_on = [aws_iam_role_policy.function]
}

locals {
  # One entry per member and alias role: "<member>/<role>".
  member_aliases = merge([
    for member, config in var.fleet_members : {
      for role, alias in config.aliases : "${member}/${role}" => { member = member, role = role, name = alias }
    }
  ]...)
}

resource "aws_lambda_alias" "member" {
  for_each = local.member_aliases

  name             = each.value.name
  description      = "Switchyard ${each.value.role} alias of fleet member ${each.value.member}; the state machine moves its version and routing."
  function_name    = aws_lambda_function.member[each.value.member].function_name
  function_version = aws_lambda_function.member[each.value.member].version

  lifecycle {
    ignore_changes = [function_version, routing_config]
  }
}
