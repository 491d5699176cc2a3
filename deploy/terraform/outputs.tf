output "cert_status_kv_id" {
  value       = cloudflare_workers_kv_namespace.cert_status.id
  description = "put into wrangler.toml [env.<environment>].kv_namespaces"
}
output "audit_bucket" { value = aws_s3_bucket.audit.bucket }
output "origin_role_arn" { value = aws_iam_role.origin.arn }
