# A regional REST API, not an HTTP API: WAFv2 web ACLs attach to REST API stages
# but not to HTTP APIs (DESIGN.md decision 6).

data "aws_partition" "current" {}

locals {
  live_alias  = aws_lambda_alias.this["live"]
  green_alias = aws_lambda_alias.this["green"]

  # The integrations invoke function:<name>:${stageVariables.alias}: "You can use a stage variable in place of a
  # Lambda function integration name or alias" (API Gateway stage variables reference,
  # https://docs.aws.amazon.com/apigateway/latest/developerguide/aws-api-gateway-stage-variables-reference.html).
  # One deployment, so the same routes and mapping, serves the environment's stage from the live alias and the
  # green stage from the green alias: Verify green's front-door requests meet exactly what live traffic meets.
  alias_invoke_uri = join("", [
    "arn:${data.aws_partition.current.partition}:apigateway:${local.region}:lambda:path/",
    "2015-03-31/functions/${aws_lambda_function.this.arn}:$${stageVariables.alias}/invocations",
  ])
}

resource "aws_api_gateway_rest_api" "this" {
  name        = var.function_name
  description = "${var.application} (${var.environment}), served by the ${var.aliases["live"]} alias."

  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_resource" "proxy" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "{proxy+}"
}

# Requests are authenticated by the application itself (API key + HMAC signature),
# so API Gateway passes every method through.
resource "aws_api_gateway_method" "proxy" {
  rest_api_id   = aws_api_gateway_rest_api.this.id
  resource_id   = aws_api_gateway_resource.proxy.id
  http_method   = "ANY"
  authorization = "NONE"
}

resource "aws_api_gateway_method" "root" {
  rest_api_id   = aws_api_gateway_rest_api.this.id
  resource_id   = aws_api_gateway_rest_api.this.root_resource_id
  http_method   = "ANY"
  authorization = "NONE"
}

# The integrations invoke the stage's alias, never the unqualified function, so
# traffic follows the alias as the state machine moves it.
resource "aws_api_gateway_integration" "proxy" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.proxy.id
  http_method             = aws_api_gateway_method.proxy.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = local.alias_invoke_uri
}

resource "aws_api_gateway_integration" "root" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_rest_api.this.root_resource_id
  http_method             = aws_api_gateway_method.root.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = local.alias_invoke_uri
}

# Each alias may be invoked only from its own stage.
resource "aws_lambda_permission" "api_invokes_live" {
  statement_id  = "AllowApiGatewayInvokeLive"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  qualifier     = local.live_alias.name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/${var.environment}/*/*"
}

resource "aws_lambda_permission" "api_invokes_green" {
  statement_id  = "AllowApiGatewayInvokeGreen"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  qualifier     = local.green_alias.name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/green/*/*"
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.proxy.id,
      aws_api_gateway_method.proxy.id,
      aws_api_gateway_method.root.id,
      aws_api_gateway_integration.proxy.id,
      aws_api_gateway_integration.root.id,
      # A changed mapping must reach the stages: the integrations' ids stay the same when their URI changes.
      aws_api_gateway_integration.proxy.uri,
      aws_api_gateway_integration.root.uri,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

# Needs the account-level API Gateway CloudWatch role (see docs/terraform.md).
resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.function_name}/access"
  retention_in_days = var.log_retention_days
}

resource "aws_api_gateway_stage" "this" {
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.environment
  xray_tracing_enabled = true
  variables            = { alias = local.live_alias.name }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      sourceIp           = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationLatency = "$context.integrationLatency"
      wafResponseCode    = "$context.wafResponseCode"
      webAclArn          = "$context.webaclArn"
    })
  }
}

# The green stage: the same deployment and WAF, served by the green alias. Verify green sends its health check
# and smoke requests here (config verification.greenStageUrl, output green_stage_url) before live moves. It is as
# public as the live stage and authenticated the same way (API key + HMAC); between releases green is live's version.
resource "aws_api_gateway_stage" "green" {
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = "green"
  xray_tracing_enabled = true
  variables            = { alias = local.green_alias.name }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format          = aws_api_gateway_stage.this.access_log_settings[0].format
  }
}

resource "aws_api_gateway_method_settings" "green" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.green.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }
}

resource "aws_api_gateway_method_settings" "all" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }
}
