output "bucket_name" {
  description = "Name of the example bucket."
  value       = module.assets.bucket_name
}

output "bucket_url" {
  description = "gs:// URL of the example bucket."
  value       = module.assets.bucket_url
}
