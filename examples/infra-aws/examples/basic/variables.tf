variable "region" {
  description = "AWS region to deploy the example into."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Base name of the example's resources."
  type        = string
  default     = "net"
}

variable "environment" {
  description = "Environment the example is deployed as."
  type        = string
  default     = "dev"
}
