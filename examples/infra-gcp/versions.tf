terraform {
  # 1.11 is the first release whose `terraform test` can mock computed values during plan.
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
}
