# The one root for every application environment of this account. The environment
# is chosen at init and plan, never by a copy of this directory:
#   terraform init -reconfigure -backend-config="key=switchyard/<env>/terraform.tfstate" ...
#   terraform plan -var-file=../environments/<env>.tfvars.json ...
# The tfvars files are generated from config/environments.ts by
# scripts/generate-tfvars.ts; image_uri and alerts_topic_arn are passed by
# CodeBuild's release stage.

terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x (from 5.100) and 6.x: the module uses no attribute that 6.0 renamed or removed (docs/terraform.md).
      version = ">= 5.100, < 7.0"
    }
  }

  # Partial configuration: key (one state per environment), bucket,
  # dynamodb_table and region are given at init, the bucket and table from the
  # CDK stack outputs TerraformStateBucketName and TerraformLockTableName:
  #   terraform init -backend-config="key=switchyard/<env>/terraform.tfstate" \
  #     -backend-config="bucket=..." -backend-config="dynamodb_table=..." -backend-config="region=..."
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  default_tags {
    tags = {
      Application = var.application
      Environment = var.environment
      ManagedBy   = "terraform"
      Repository  = "switchyard"
    }
  }
}

module "app" {
  source = "../modules/app-environment"

  environment                  = var.environment
  application                  = var.application
  function_name                = var.function_name
  image_uri                    = var.image_uri
  memory_mb                    = var.memory_mb
  log_level                    = var.log_level
  log_retention_days           = var.log_retention_days
  aliases                      = var.aliases
  waf_mode                     = var.waf_mode
  waf_rate_limit_per_5_minutes = var.waf_rate_limit_per_5_minutes
  waf_blocked_countries        = var.waf_blocked_countries
  alarms                       = var.alarms
  alerts_topic_arn             = var.alerts_topic_arn
  fleet_members                = var.fleet_members
}
