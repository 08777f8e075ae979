variable "location" {
  description = "Azure location of the example's resource group and resources."
  type        = string
  default     = "westeurope"
}

variable "name" {
  description = "Base name of the example's resources."
  type        = string
  default     = "files"
}

variable "environment" {
  description = "Environment the example is deployed as."
  type        = string
  default     = "dev"
}

variable "private_endpoint_subnet_id" {
  description = "Existing subnet for the example's private endpoints."
  type        = string
}

variable "log_analytics_workspace_id" {
  description = "Existing Log Analytics workspace for the example's audit logs."
  type        = string
}

variable "key_vault_public_network_access_enabled" {
  description = "Set when Terraform runs outside the virtual network, with its public IPs in key_vault_allowed_ip_ranges."
  type        = bool
  default     = false
}

variable "key_vault_allowed_ip_ranges" {
  description = "Public IPs of the machine running Terraform, admitted through the Key Vault firewall."
  type        = list(string)
  default     = []
}
