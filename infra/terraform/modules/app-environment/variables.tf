# Every variable without a default is generated from config/environments.ts
# (scripts/generate-tfvars.ts), except image_uri and alerts_topic_arn, which
# CodeBuild passes at plan time.

variable "environment" {
  description = "Environment name: dev, staging or prod."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "The environment must be dev, staging or prod."
  }
}

variable "application" {
  description = "Application name, used in tags."
  type        = string
}

variable "function_name" {
  description = "Name of the application's Lambda function; the state machine finds it by this name."
  type        = string
}

variable "image_uri" {
  description = "Image (repository@sha256:digest) for the function's first creation only; afterwards the state machine owns the code."
  type        = string

  validation {
    condition     = can(regex("@sha256:[0-9a-f]{64}$", var.image_uri))
    error_message = "The image_uri must name the image by digest (repository@sha256:<64 hex>), never by tag."
  }
}

variable "memory_mb" {
  description = "Function memory in MB."
  type        = number

  validation {
    condition     = contains([256, 512, 1024, 2048], var.memory_mb)
    error_message = "The memory_mb must be 256, 512, 1024 or 2048."
  }
}

variable "timeout_seconds" {
  description = "Function timeout; API Gateway gives up after 29 seconds anyway."
  type        = number
  default     = 10
}

variable "log_level" {
  description = "Application log level (Powertools and the Lambda JSON log filter)."
  type        = string

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.log_level)
    error_message = "The log_level must be DEBUG, INFO, WARN or ERROR."
  }
}

variable "log_retention_days" {
  description = "Retention of the function and API access log groups."
  type        = number
}

variable "aliases" {
  description = "Alias names by role: live takes API traffic, green is the candidate, blue the rollback target."
  type        = map(string)

  validation {
    condition     = length(var.aliases) == 3 && alltrue([for role in ["live", "blue", "green"] : contains(keys(var.aliases), role)])
    error_message = "The aliases map needs exactly the roles live, blue and green."
  }
}

variable "fleet_members" {
  description = "Fleet members other than the environment's own function, by member name: each runs the same image with its own memory and alias names (config fleet.members)."
  type = map(object({
    function_name = string
    memory_mb     = number
    aliases       = map(string)
  }))
  default = {}

  validation {
    condition = alltrue([
      for member in values(var.fleet_members) :
      length(member.aliases) == 3 && alltrue([for role in ["live", "blue", "green"] : contains(keys(member.aliases), role)])
    ])
    error_message = "Each fleet member's aliases map needs exactly the roles live, blue and green."
  }
}

variable "waf_mode" {
  description = "count: WAF rules only count matches; block: they block."
  type        = string

  validation {
    condition     = contains(["count", "block"], var.waf_mode)
    error_message = "The waf_mode must be count or block."
  }
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests one IP may send in a 5-minute window before the rate rule matches."
  type        = number

  validation {
    condition     = var.waf_rate_limit_per_5_minutes >= 10
    error_message = "WAF rate limits start at 10 requests per window."
  }
}

variable "waf_blocked_countries" {
  description = "ISO 3166 alpha-2 country codes the geo rule matches; empty means no geo rule."
  type        = list(string)
}

variable "alarms" {
  description = "Alarms by name; the deployment service's Check health step watches these names."
  type = map(object({
    metric             = string
    threshold          = number
    period_seconds     = number
    evaluation_periods = number
  }))

  validation {
    condition     = alltrue([for alarm in values(var.alarms) : contains(["5xx", "errors", "latency"], alarm.metric)])
    error_message = "Each alarm's metric must be 5xx, errors or latency."
  }
}

variable "alerts_topic_arn" {
  description = "SNS topic (owned by the CDK deployment service) that alarms notify."
  type        = string
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second the API stage accepts."
  type        = number
  default     = 100
}

variable "throttling_burst_limit" {
  description = "Burst of requests the API stage accepts."
  type        = number
  default     = 200
}
