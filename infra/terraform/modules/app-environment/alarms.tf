# One alarm per name in the environment's health.alarms; the Check health step
# of the deployment service watches them by these exact names.

locals {
  live_alias_resource = "${var.function_name}:${var.aliases["live"]}"

  alarm_metrics = {
    "5xx" = {
      namespace           = "AWS/ApiGateway"
      metric_name         = "5XXError"
      statistic           = "Average"
      extended_statistic  = null
      comparison_operator = "GreaterThanThreshold"
      dimensions = {
        ApiName = aws_api_gateway_rest_api.this.name
        Stage   = aws_api_gateway_stage.this.stage_name
      }
      description = "Share of ${var.function_name}'s API requests answered with 5xx."
    }
    errors = {
      namespace           = "AWS/Lambda"
      metric_name         = "Errors"
      statistic           = "Sum"
      extended_statistic  = null
      comparison_operator = "GreaterThanOrEqualToThreshold"
      dimensions = {
        FunctionName = var.function_name
        Resource     = local.live_alias_resource
      }
      description = "Invocation errors of ${local.live_alias_resource}."
    }
    latency = {
      namespace           = "AWS/Lambda"
      metric_name         = "Duration"
      statistic           = null
      extended_statistic  = "p99"
      comparison_operator = "GreaterThanThreshold"
      dimensions = {
        FunctionName = var.function_name
        Resource     = local.live_alias_resource
      }
      description = "p99 duration (ms) of ${local.live_alias_resource}."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "health" {
  for_each = var.alarms

  alarm_name          = each.key
  alarm_description   = local.alarm_metrics[each.value.metric].description
  namespace           = local.alarm_metrics[each.value.metric].namespace
  metric_name         = local.alarm_metrics[each.value.metric].metric_name
  dimensions          = local.alarm_metrics[each.value.metric].dimensions
  statistic           = local.alarm_metrics[each.value.metric].statistic
  extended_statistic  = local.alarm_metrics[each.value.metric].extended_statistic
  comparison_operator = local.alarm_metrics[each.value.metric].comparison_operator
  threshold           = each.value.threshold
  period              = each.value.period_seconds
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.evaluation_periods

  # No traffic is not a failure here; the Check health step treats too little data itself.
  treat_missing_data = "notBreaching"

  alarm_actions = [var.alerts_topic_arn]
  ok_actions    = [var.alerts_topic_arn]
}
