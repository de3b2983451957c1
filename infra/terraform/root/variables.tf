# Generated into ../environments/<env>.tfvars.json from config/environments.ts: do not set by hand.

variable "environment" {
  type = string
}

variable "application" {
  type = string
}

variable "function_name" {
  type = string
}

variable "memory_mb" {
  type = number
}

variable "log_level" {
  type = string
}

variable "log_retention_days" {
  type = number
}

variable "aliases" {
  type = map(string)
}

variable "fleet_members" {
  type = map(object({
    function_name = string
    memory_mb     = number
    aliases       = map(string)
  }))
  default = {}
}

variable "waf_mode" {
  type = string
}

variable "waf_rate_limit_per_5_minutes" {
  type = number
}

variable "waf_blocked_countries" {
  type = list(string)
}

variable "alarms" {
  type = map(object({
    metric             = string
    threshold          = number
    period_seconds     = number
    evaluation_periods = number
  }))
}

# Passed by the release stage (-var) for each plan.

variable "image_uri" {
  description = "The release's image by digest; used only when the function is first created."
  type        = string
}

variable "alerts_topic_arn" {
  description = "The deployment service's alerts SNS topic."
  type        = string
}
