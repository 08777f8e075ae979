provider "aws" {
  region = var.region
}

module "net" {
  source = "../.."

  name        = var.name
  environment = var.environment

  # A throwaway example may be destroyed with its objects; real callers keep the default.
  force_destroy = true
}
