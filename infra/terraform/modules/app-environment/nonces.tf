# The nonces every instance of the function checks signed requests against (app/shared-nonce-stores.ts), so one
# request replayed to another instance, version or the green stage is refused. One conditional PutItem per request
# writes the SHA-256 of "<api key>\n<nonce>" unless a live item holds it; TTL deletes spent ones in the background
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html). Nothing here is worth restoring:
# a nonce lives 300 s past its request's timestamp.
resource "aws_dynamodb_table" "nonces" {
  name         = "${var.function_name}-nonces"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  server_side_encryption {
    enabled = true
  }
}
