# Plan-only unit tests against a mocked provider: they need no credentials, reach no
# cloud API and create nothing. `terraform init` still downloads the provider, whose
# schema the mock uses.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
      arn        = "arn:aws:iam::123456789012:root"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }
}

variables {
  name        = "net"
  environment = "dev"
}

run "rejects_an_unknown_environment" {
  command = plan

  variables {
    environment = "qa"
  }

  expect_failures = [var.environment]
}

run "rejects_a_malformed_name" {
  command = plan

  variables {
    name = "Not_Valid"
  }

  expect_failures = [var.name]
}

# scaffold:fill tests Add plan-time assertions for what makes this module right for: Network for the payments platform.
# | Use `command = plan` and the mocked provider above; assert only on values known at plan time
# | (arguments, variables, data sources), never on IDs or ARNs the provider computes.
run "bucket_is_private_versioned_and_encrypted" {
  command = plan

  assert {
    condition     = aws_s3_bucket.this.bucket == "net-dev-123456789012"
    error_message = "The bucket name must be <name>-<environment>-<account id>."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "Every public access block setting must be on."
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.this.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)."
  }

  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Enabled"
    error_message = "Versioning must be enabled."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "Objects must be encrypted with the module's KMS key."
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_key.this.deletion_window_in_days == 7
    error_message = "The key must rotate, with the short deletion window of a non-prod environment."
  }

  assert {
    condition     = aws_s3_bucket_logging.this.target_prefix == "s3/net-dev-123456789012/"
    error_message = "Server access logs must be delivered under s3/<bucket name>/."
  }

  assert {
    condition     = aws_s3_bucket_notification.this.eventbridge
    error_message = "Object events must reach EventBridge."
  }
}

run "prod_keeps_key_and_versions_longer" {
  command = plan

  variables {
    environment                       = "prod"
    noncurrent_version_retention_days = 400
  }

  assert {
    condition     = aws_kms_key.this.deletion_window_in_days == 30
    error_message = "A prod key must have the longest deletion window."
  }

  assert {
    condition     = one([for rule in aws_s3_bucket_lifecycle_configuration.this.rule : rule if rule.id == "expire-noncurrent-versions"]).noncurrent_version_expiration[0].noncurrent_days == 400
    error_message = "Noncurrent versions must expire after noncurrent_version_retention_days."
  }
}

run "rejects_short_access_log_retention" {
  command = plan

  variables {
    access_log_retention_days = 30
  }

  expect_failures = [var.access_log_retention_days]
}
# scaffold:end tests
