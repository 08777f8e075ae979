variable "name" {
  description = "Base name of every resource; the environment is appended (e.g. net-dev)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,18}[a-z0-9]$", var.name))
    error_message = "name must be 2-20 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "environment" {
  description = "Deployment environment; prod gets longer retention and more redundancy."
  type        = string
  default     = "dev"

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of dev, staging or prod."
  }
}

variable "tags" {
  description = "Extra tags for every resource, merged over the module's owner/environment/managed-by/module tags."
  type        = map(string)
  default     = {}
}

# scaffold:fill inputs Declare the storage inputs the resources in main.tf need for: Network for the payments platform.
# | Every variable has a type, a description and, where a wrong value is possible, a validation block;
# | give safe defaults so the module plans with only the variables above set.
variable "noncurrent_version_retention_days" {
  description = "Days a replaced or deleted object version is kept before S3 expires it."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_retention_days >= 1 && var.noncurrent_version_retention_days <= 3650
    error_message = "noncurrent_version_retention_days must be between 1 and 3650."
  }
}

variable "access_log_retention_days" {
  description = "Days the server access logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 90
    error_message = "access_log_retention_days must be at least 90 so access can be audited."
  }
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the buckets while they still hold objects. Keep false outside throwaway environments."
  type        = bool
  default     = false
}
# scaffold:end inputs
