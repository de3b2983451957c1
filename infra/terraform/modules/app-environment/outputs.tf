output "function_name" {
  description = "The application's Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Unqualified ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "alias_arns" {
  description = "Alias ARNs by role (live, blue, green)."
  value       = { for role, alias in aws_lambda_alias.this : role => alias.arn }
}

output "api_url" {
  description = "Invoke URL of the API stage (served by the live alias)."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "green_stage_url" {
  description = "Invoke URL of the green stage (served by the green alias, same WAF): Verify green's verification.greenStageUrl."
  value       = aws_api_gateway_stage.green.invoke_url
}

output "web_acl_arn" {
  description = "The WAF web ACL on the API stage."
  value       = aws_wafv2_web_acl.this.arn
}

output "client_keys_secret_arn" {
  description = "Secrets Manager secret holding the client keys; its value is set outside Terraform."
  value       = aws_secretsmanager_secret.client_keys.arn
}

output "alarm_names" {
  description = "Alarms the Check health step watches."
  value       = [for alarm in aws_cloudwatch_metric_alarm.health : alarm.alarm_name]
}

output "fleet_alias_arns" {
  description = "Each fleet member's alias ARNs by role (live, blue, green); empty without a fleet."
  value = {
    for member in keys(var.fleet_members) : member => {
      for key, alias in aws_lambda_alias.member : split("/", key)[1] => alias.arn if split("/", key)[0] == member
    }
  }
}
