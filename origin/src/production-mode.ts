import type { Config } from "./config.ts";

/**
 * `KAKUNIN_ENV=production` refuses every default that is fine on a laptop and wrong for a bank:
 * keys sealed in a local file, the embedded database, an archive directory that can be rewritten,
 * an admin key that sits in the process environment, and webhooks allowed into the private network. Each refusal names its variable and
 * what to set instead, so the first failed start tells the operator everything at once.
 */
export function productionProblems(config: Config): string[] {
  if (config.KAKUNIN_ENV !== "production") return [];
  const problems: string[] = [];
  if (config.KAKUNIN_KEY_MANAGER === "local") {
    problems.push("KAKUNIN_KEY_MANAGER=local keeps private keys in a file on this host: set aws-kms or pkcs11");
  }
  if (!config.DATABASE_URL) {
    problems.push("DATABASE_URL is not set, so the embedded PGlite database would be used: point it at PostgreSQL");
  }
  if (config.KAKUNIN_ARCHIVE === "local") {
    problems.push("KAKUNIN_ARCHIVE=local writes the audit archive to a rewritable directory: set s3 (Object Lock COMPLIANCE)");
  }
  if (config.KAKUNIN_ADMIN_KEY !== undefined) {
    problems.push("KAKUNIN_ADMIN_KEY is a development bootstrap: unset it and run `kakunin init` once instead");
  }
  if (config.KAKUNIN_WEBHOOK_ALLOW_PRIVATE === "1") {
    problems.push("KAKUNIN_WEBHOOK_ALLOW_PRIVATE=1 lets any tenant's webhooks reach loopback and private addresses (SSRF into this network): unset it");
  }
  return problems;
}
