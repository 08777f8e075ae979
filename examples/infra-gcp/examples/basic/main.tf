provider "google" {
  project = var.project_id
  region  = var.region
}

module "assets" {
  source = "../.."

  project_id  = var.project_id
  name        = var.name
  environment = var.environment

  location = var.region

  # A throwaway example may be destroyed with its objects; real callers keep the default.
  force_destroy = true
}
