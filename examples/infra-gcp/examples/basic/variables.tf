variable "project_id" {
  description = "Google Cloud project to deploy the example into."
  type        = string
}

variable "region" {
  description = "Google Cloud region to deploy the example into."
  type        = string
  default     = "europe-west1"
}

variable "name" {
  description = "Base name of the example's resources."
  type        = string
  default     = "assets"
}

variable "environment" {
  description = "Environment the example is deployed as."
  type        = string
  default     = "dev"
}
