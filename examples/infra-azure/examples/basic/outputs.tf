output "storage_account_name" {
  description = "Name of the example storage account."
  value       = module.files.storage_account_name
}

output "primary_blob_endpoint" {
  description = "Blob endpoint of the example storage account."
  value       = module.files.primary_blob_endpoint
}
