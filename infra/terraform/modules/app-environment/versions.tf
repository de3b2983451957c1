terraform {
  # The S3 backend's use_lockfile is GA from 1.11.
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x (from 5.100) and 6.x: the module uses no attribute that 6.0 renamed or removed (docs/terraform.md).
      version = ">= 5.100, < 7.0"
    }
  }
}
