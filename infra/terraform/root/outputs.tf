output "function_name" {
  value = module.app.function_name
}

output "function_arn" {
  value = module.app.function_arn
}

output "alias_arns" {
  value = module.app.alias_arns
}

output "api_url" {
  value = module.app.api_url
}

output "web_acl_arn" {
  value = module.app.web_acl_arn
}

output "client_keys_secret_arn" {
  value = module.app.client_keys_secret_arn
}

output "alarm_names" {
  value = module.app.alarm_names
}

output "green_stage_url" {
  description = "The API's green stage (served by the green alias): Verify green's front-door checks go here"
  value       = module.app.green_stage_url
}

output "fleet_alias_arns" {
  description = "Each fleet member's alias ARNs by role (live, blue, green); empty without a fleet"
  value       = module.app.fleet_alias_arns
}
