variable "environment" {
  type        = string
  description = "staging or production (matches wrangler.toml [env.*])"
  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production"
  }
}
variable "cloudflare_account_id" { type = string }
variable "cloudflare_zone_id" { type = string }
variable "edge_hostname" {
  type        = string
  description = "public hostname of the edge (gateways call https://<edge_hostname>/v1/verify/...)"
}
variable "verify_requests_per_10s" {
  type    = number
  default = 1000
}
variable "aws_region" {
  type    = string
  default = "eu-central-1"
}
variable "audit_bucket_name" { type = string }
variable "audit_retention_days" {
  type        = number
  default     = 2557
  description = "COMPLIANCE retention of archived audit batches (7 years); keep equal to KAKUNIN_ARCHIVE_RETENTION_DAYS"
}
variable "origin_runs_on" {
  type    = string
  default = "ecs"
}
