output "function_name" {
  value = module.app.function_name
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
