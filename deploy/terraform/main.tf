# Kakunin infrastructure, as an example to adapt (OpenTofu or Terraform >= 1.6).
# Cloudflare: the edge Worker, its KV namespace, SQLite Durable Objects, a custom domain, and a
# rate limit in front of the public verify API. AWS: the KMS permissions the origin needs, the
# S3 Object Lock (COMPLIANCE) bucket for the audit archive, and an IAM role with least privilege.
# Validate with `tofu init && tofu validate` where the providers can be downloaded (not on the
# offline build machines; see deploy/README.md).

terraform {
  required_version = ">= 1.6"
  required_providers {
    cloudflare = { source = "cloudflare/cloudflare", version = "~> 5.0" }
    aws        = { source = "hashicorp/aws", version = "~> 6.0" }
  }
}

provider "cloudflare" {}
provider "aws" { region = var.aws_region }

data "aws_caller_identity" "current" {}

# ---------------------------------------------------------------- Cloudflare: the edge

resource "cloudflare_workers_kv_namespace" "cert_status" {
  account_id = var.cloudflare_account_id
  title      = "kakunin-${var.environment}-cert-status"
}

# The script itself is uploaded by `wrangler deploy --env <environment>` (it bundles the Worker
# and applies the Durable Object migrations in wrangler.toml); Terraform owns what surrounds it.
# Put the id below into wrangler.toml [env.<environment>].kv_namespaces.

resource "cloudflare_workers_custom_domain" "verify" {
  account_id  = var.cloudflare_account_id
  zone_id     = var.cloudflare_zone_id
  hostname    = var.edge_hostname
  service     = var.environment == "production" ? "kakunin-edge" : "kakunin-edge-${var.environment}"
  environment = "production"
}

# Public verify and OCSP are unauthenticated: cap each client before the Worker runs.
resource "cloudflare_ruleset" "edge_rate_limit" {
  zone_id = var.cloudflare_zone_id
  name    = "kakunin-edge-rate-limit"
  kind    = "zone"
  phase   = "http_ratelimit"
  rules = [{
    description = "per-IP cap on public verify/OCSP reads"
    expression  = "(http.host eq \"${var.edge_hostname}\" and (starts_with(http.request.uri.path, \"/v1/verify/\") or starts_with(http.request.uri.path, \"/v1/ocsp\")))"
    action      = "block"
    ratelimit = {
      characteristics     = ["ip.src", "cf.colo.id"]
      period              = 10
      requests_per_period = var.verify_requests_per_10s
      mitigation_timeout  = 10
    }
  }]
}

# ---------------------------------------------------------------- AWS: audit archive (WORM)

resource "aws_s3_bucket" "audit" {
  bucket              = var.audit_bucket_name
  object_lock_enabled = true
}

resource "aws_s3_bucket_versioning" "audit" {
  bucket = aws_s3_bucket.audit.id
  versioning_configuration { status = "Enabled" }
}

resource "aws_s3_bucket_object_lock_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id
  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = var.audit_retention_days
    }
  }
}

resource "aws_s3_bucket_public_access_block" "audit" {
  bucket                  = aws_s3_bucket.audit.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id
  rule {
    apply_server_side_encryption_by_default { sse_algorithm = "aws:kms" }
  }
}

# ---------------------------------------------------------------- AWS: the origin's role

data "aws_iam_policy_document" "origin_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [var.origin_runs_on == "ecs" ? "ecs-tasks.amazonaws.com" : "ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "origin" {
  name               = "kakunin-origin-${var.environment}"
  assume_role_policy = data.aws_iam_policy_document.origin_assume.json
}

# Least privilege (one AWS account per environment): the origin creates RSA signing keys tagged
# for Kakunin, reads their public
# keys, signs with them, and schedules deletion of its own keys (tidy). It can never export a
# private key (KMS has no such API) nor touch keys without the tag.
data "aws_iam_policy_document" "origin" {
  statement {
    sid       = "CreateTaggedSigningKeys"
    actions   = ["kms:CreateKey", "kms:TagResource"]
    resources = ["*"]
    # The origin tags every key it creates with kakunin:label (origin/src/kms/aws.ts).
    condition {
      test     = "Null"
      variable = "aws:RequestTag/kakunin:label"
      values   = ["false"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:KeyUsage"
      values   = ["SIGN_VERIFY"]
    }
  }
  statement {
    sid       = "UseOwnKeys"
    actions   = ["kms:GetPublicKey", "kms:Sign", "kms:DescribeKey", "kms:ScheduleKeyDeletion"]
    resources = ["arn:aws:kms:${var.aws_region}:${data.aws_caller_identity.current.account_id}:key/*"]
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/kakunin:label"
      values   = ["false"]
    }
  }
  statement {
    sid       = "ArchiveWriteOnce"
    actions   = ["s3:PutObject", "s3:PutObjectRetention", "s3:GetObject", "s3:GetObjectRetention", "s3:ListBucket", "s3:GetBucketObjectLockConfiguration"]
    resources = [aws_s3_bucket.audit.arn, "${aws_s3_bucket.audit.arn}/*"]
  }
  statement {
    sid       = "NeverShortenRetention"
    effect    = "Deny"
    actions   = ["s3:BypassGovernanceRetention", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutBucketObjectLockConfiguration"]
    resources = [aws_s3_bucket.audit.arn, "${aws_s3_bucket.audit.arn}/*"]
  }
}

resource "aws_iam_role_policy" "origin" {
  name   = "kakunin-origin"
  role   = aws_iam_role.origin.id
  policy = data.aws_iam_policy_document.origin.json
}
