resource "aws_kms_key" "secrets" {
  description             = "Encrypts ${var.function_name}'s client keys in Secrets Manager."
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "secrets" {
  name          = "alias/${var.function_name}-secrets"
  target_key_id = aws_kms_key.secrets.key_id
}

# Only the container: the value is set and rotated with the AWS CLI (docs/terraform.md),
# so it never appears in a plan, in state or in this repository.
resource "aws_secretsmanager_secret" "client_keys" {
  name                    = "${var.function_name}/client-keys"
  description             = "API keys and HMAC secrets of ${var.function_name}'s clients, as JSON."
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = 30
}
