# The seed's six rule sets. In count mode (dev, staging) every rule only counts
# its matches, so false positives show up in metrics before prod blocks them.

locals {
  waf_blocks = var.waf_mode == "block"

  # AWS managed rule groups, in evaluation order after the rate and geo rules.
  waf_managed_rule_groups = [
    { name = "AWSManagedRulesAmazonIpReputationList", priority = 20 },
    { name = "AWSManagedRulesKnownBadInputsRuleSet", priority = 30 },
    { name = "AWSManagedRulesCommonRuleSet", priority = 40 },
    { name = "AWSManagedRulesSQLiRuleSet", priority = 50 },
  ]
}

resource "aws_wafv2_web_acl" "this" {
  name        = "${var.function_name}-api"
  description = "Protects ${var.function_name}'s API stage (${var.waf_mode} mode)."
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 0

    action {
      dynamic "block" {
        for_each = local.waf_blocks ? [1] : []
        content {}
      }
      dynamic "count" {
        for_each = local.waf_blocks ? [] : [1]
        content {}
      }
    }

    statement {
      rate_based_statement {
        limit                 = var.waf_rate_limit_per_5_minutes
        evaluation_window_sec = 300
        aggregate_key_type    = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.function_name}-rate-limit-per-ip"
      sampled_requests_enabled   = true
    }
  }

  # WAF refuses a geo match without countries, so the rule exists only when config lists some.
  dynamic "rule" {
    for_each = length(var.waf_blocked_countries) > 0 ? [var.waf_blocked_countries] : []
    content {
      name     = "geo-block"
      priority = 10

      action {
        dynamic "block" {
          for_each = local.waf_blocks ? [1] : []
          content {}
        }
        dynamic "count" {
          for_each = local.waf_blocks ? [] : [1]
          content {}
        }
      }

      statement {
        geo_match_statement {
          country_codes = rule.value
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${var.function_name}-geo-block"
        sampled_requests_enabled   = true
      }
    }
  }

  dynamic "rule" {
    for_each = local.waf_managed_rule_groups
    content {
      name     = rule.value.name
      priority = rule.value.priority

      # none = let the group's own block actions apply; count = override them to count.
      override_action {
        dynamic "none" {
          for_each = local.waf_blocks ? [1] : []
          content {}
        }
        dynamic "count" {
          for_each = local.waf_blocks ? [] : [1]
          content {}
        }
      }

      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = rule.value.name
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${var.function_name}-${rule.value.name}"
        sampled_requests_enabled   = true
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.function_name}-api"
    sampled_requests_enabled   = true
  }
}

# A web ACL is associated per stage ("For an Amazon API Gateway stage: arn:aws:apigateway:region::/restapis/api-id/
# stages/stage-name", AssociateWebACL's ResourceArn, https://docs.aws.amazon.com/waf/latest/APIReference/
# API_AssociateWebACL.html), so the green stage gets its own association with the same web ACL: a rule that would
# block the app's requests blocks Verify green's front-door requests first.
resource "aws_wafv2_web_acl_association" "api_stage" {
  resource_arn = aws_api_gateway_stage.this.arn
  web_acl_arn  = aws_wafv2_web_acl.this.arn
}

resource "aws_wafv2_web_acl_association" "api_green_stage" {
  resource_arn = aws_api_gateway_stage.green.arn
  web_acl_arn  = aws_wafv2_web_acl.this.arn
}
