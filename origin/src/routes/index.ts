import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import * as healthz from "./healthz.ts";
import * as readyz from "./readyz.ts";
import * as apiKeysCreate from "./v1_api_keys_create.ts";
import * as apiKeysList from "./v1_api_keys_list.ts";
import * as apiKeysRevoke from "./v1_api_keys_revoke.ts";
import * as agentsCertificates from "./v1_agents_certificates_list.ts";
import * as agentsCertify from "./v1_agents_certify.ts";
import * as agentsRenew from "./v1_agents_certificates_renew.ts";
import * as agentsCreate from "./v1_agents_create.ts";
import * as agentsGet from "./v1_agents_get.ts";
import * as agentsList from "./v1_agents_list.ts";
import * as agentsPatch from "./v1_agents_patch.ts";
import * as agentsRetire from "./v1_agents_retire.ts";
import * as agentsSign from "./v1_agents_sign.ts";
import * as agentsRisk from "./v1_agents_risk.ts";
import * as agentsIngestTokens from "./v1_agents_ingest_tokens.ts";
import * as agentsEvents from "./v1_agents_events_list.ts";
import * as caGet from "./v1_ca_get.ts";
import * as certificatesGet from "./v1_certificates_get.ts";
import * as certificatesRevoke from "./v1_certificates_revoke.ts";
import * as tenantGet from "./v1_tenant_get.ts";
import * as caRollover from "./v1_tenant_ca_rollover.ts";
import * as caCsr from "./v1_tenant_ca_csr.ts";
import * as caImport from "./v1_tenant_ca_import.ts";
import * as caRootCrl from "./v1_admin_ca_root_crl.ts";
import * as policyGet from "./v1_tenant_policy_get.ts";
import * as policyPatch from "./v1_tenant_policy_patch.ts";
import * as tenantsCreate from "./v1_tenants_create.ts";
import * as scoringGet from "./v1_tenant_scoring_get.ts";
import * as scoringPatch from "./v1_tenant_scoring_patch.ts";
import * as scoringShadow from "./v1_tenant_scoring_shadow.ts";
import * as webhooksList from "./v1_tenant_webhooks_list.ts";
import * as webhooksCreate from "./v1_tenant_webhooks_create.ts";
import * as webhooksDeliveries from "./v1_tenant_webhooks_deliveries.ts";
import * as webhooksReplay from "./v1_tenant_webhooks_replay.ts";
import * as webhooksDelete from "./v1_tenant_webhooks_delete.ts";
import * as reviewsList from "./v1_reviews_list.ts";
import * as agentsReview from "./v1_agents_review.ts";
import * as auditTreeHead from "./v1_audit_tree_head.ts";
import * as auditEntries from "./v1_audit_entries.ts";
import * as auditProofs from "./v1_audit_proofs.ts";
import * as agentsEvidence from "./v1_agents_evidence.ts";
import * as init from "./v1_init.ts";
import * as metrics from "./metrics.ts";
import * as adminTidy from "./v1_admin_tidy.ts";
import * as deadLettersList from "./v1_admin_dead_letters_list.ts";
import * as deadLettersReplay from "./v1_admin_dead_letters_replay.ts";
import * as agentCredentialsCreate from "./v1_agents_credentials_create.ts";
import * as agentCredentialsList from "./v1_agents_credentials_list.ts";
import * as agentCredentialsRevoke from "./v1_agents_credentials_revoke.ts";

/** Every route module of the origin; the OpenAPI document is built from exactly this list. */
export const ROUTES = [
  healthz, readyz, agentsCreate, agentsList, agentsGet, agentsPatch, agentsRetire, agentsCertify, agentsRenew, agentsCertificates,
  agentsSign, agentsRisk, agentsIngestTokens, agentsEvents, certificatesGet, certificatesRevoke, caGet, caRollover, tenantGet, policyGet, policyPatch, tenantsCreate,
  apiKeysCreate, apiKeysList, apiKeysRevoke, auditTreeHead, auditEntries, auditProofs, agentsEvidence, init, metrics,
  deadLettersList, deadLettersReplay, agentCredentialsCreate, agentCredentialsList, agentCredentialsRevoke, adminTidy,
  scoringGet, scoringPatch, scoringShadow,
  webhooksList, webhooksCreate, webhooksDeliveries, webhooksReplay, webhooksDelete,
  reviewsList, agentsReview,
  caCsr, caImport, caRootCrl,
] as const;

export function registerRoutes(app: OpenAPIHono<AppEnv>): void {
  for (const r of ROUTES) r.register(app);
}
