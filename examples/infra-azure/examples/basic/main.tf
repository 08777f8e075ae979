# The subscription comes from ARM_SUBSCRIPTION_ID (or `az account set`), credentials
# from the Azure CLI login or the ARM_* variables of a service principal.
provider "azurerm" {
  features {
    # The account's data plane is private: skip the provider's reads of blocks the
    # module never sets (queue_properties, static_website).
    storage {
      data_plane_available = false
    }
  }

  # Shared keys are disabled: talk to storage with Microsoft Entra ID.
  storage_use_azuread = true
}

resource "azurerm_resource_group" "example" {
  name     = "rg-${var.name}-${var.environment}"
  location = var.location
}

module "files" {
  source = "../.."

  resource_group_name = azurerm_resource_group.example.name
  location            = azurerm_resource_group.example.location

  name        = var.name
  environment = var.environment

  private_endpoint_subnet_id = var.private_endpoint_subnet_id
  log_analytics_workspace_id = var.log_analytics_workspace_id

  # Terraform on a laptop or a hosted runner reaches the Key Vault through its firewall.
  key_vault_public_network_access_enabled = var.key_vault_public_network_access_enabled
  key_vault_allowed_ip_ranges             = var.key_vault_allowed_ip_ranges
}
