output "bucket_name" {
  description = "Name of the example bucket."
  value       = module.net.bucket_name
}

output "kms_key_arn" {
  description = "KMS key encrypting the example bucket."
  value       = module.net.kms_key_arn
}
