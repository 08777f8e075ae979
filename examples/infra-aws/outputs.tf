# scaffold:fill outputs Expose what callers of this storage module need to wire it up (Network for the payments platform.).
# | Every output has a description; mark anything secret `sensitive = true`.
output "bucket_name" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the bucket, for IAM policies."
  value       = aws_s3_bucket.this.arn
}

output "bucket_regional_domain_name" {
  description = "Region-specific domain name of the bucket."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the bucket; readers and writers need kms:Decrypt / kms:GenerateDataKey on it."
  value       = aws_kms_key.this.arn
}

output "access_log_bucket_name" {
  description = "Name of the bucket receiving the server access logs."
  value       = aws_s3_bucket.access_logs.id
}
# scaffold:end outputs
