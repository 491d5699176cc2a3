import { z } from "zod";
import { productionProblems } from "./production-mode.ts";
import { OperatorError } from "./observability/logger.ts";
import { DEFAULT_OID_ARC, isSmallArcOid } from "@kakunin/shared";

/** The shortest KAKUNIN_ADMIN_KEY started without a warning (docs/security.md). */
export const ADMIN_KEY_ADVISED_LENGTH = 16;

const port = z.coerce.number().int().min(0).max(65535);

const PKI_BASE_URL_MESSAGE = "must be an http(s) base URL without credentials, query or fragment (it is the base of the AIA and CRL URLs in certificates)";

/** An edge base URL that the OCSP, CA-issuer and CRL paths can be appended to. */
function isPkiBaseUrl(u: string): boolean {
  if (!URL.canParse(u)) return true; // .url() reports it
  const url = new URL(u);
  return (url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password && !url.search && !url.hash && !u.includes("#") && !u.includes("?");
}

/**
 * Every environment variable the origin reads, parsed once at start. Nothing else reads
 * process.env; services receive the parsed config.
 */
export const configSchema = z.object({
  /**
   * `production` refuses the development defaults (origin/src/production-mode.ts). A closed list:
   * a typo (`prod`, `Production`) silently switched every guardrail off.
   */
  KAKUNIN_ENV: z.enum(["dev", "test", "staging", "production"], { error: "must be one of dev, test, staging, production" }).default("dev"),
  KAKUNIN_DATA_DIR: z.string().min(1).default(".kakunin"),
  /** JSON log lines on stdout at this level and above (`silent` for none). */
  KAKUNIN_LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  /** When set, GET /metrics needs `Authorization: Bearer <token>` (Prometheus `authorization` config). */
  KAKUNIN_METRICS_TOKEN: z.string().min(16, "KAKUNIN_METRICS_TOKEN must be at least 16 characters").optional(),
  KAKUNIN_ORIGIN_HOST: z.string().min(1).default("127.0.0.1"),
  KAKUNIN_ORIGIN_PORT: port.default(8788),
  // Any non-empty key, like a dev root token (`vault server -dev -dev-root-token-id=root`): a
  // contract harness may bootstrap with a short one, and refusing it took the whole origin down.
  // A key under ADMIN_KEY_ADVISED_LENGTH is warned about at start; production refuses the variable.
  // And one a request can present: `Authorization: Bearer <key>` is read as 1 to 512 printable
  // ASCII characters without spaces (auth/authenticate.ts), so any other key (`test admin`, a
  // trailing newline from an env file) bootstrapped an admin key every request with it got 401 for.
  KAKUNIN_ADMIN_KEY: z
    .string()
    .min(1, "KAKUNIN_ADMIN_KEY must not be empty")
    .regex(/^[\x21-\x7e]{1,512}$/, "KAKUNIN_ADMIN_KEY must be 1 to 512 printable ASCII characters without spaces (it is sent as `Authorization: Bearer <key>`)")
    .optional(),
  DATABASE_URL: z.string().url().optional(),
  /** PostgreSQL: how long to wait for a connection before answering 503 (ms). */
  /**
   * auto: the origin applies pending migrations at start (under an advisory lock). off: it never
   * runs DDL (the app role may lack the rights; `kakunin-origin migrate` is a separate deploy
   * step) and refuses to start on a database that is behind this build.
   */
  KAKUNIN_MIGRATE: z.enum(["auto", "off"]).default("auto"),
  KAKUNIN_DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  /** PostgreSQL: the server cancels any statement running longer than this (ms). */
  KAKUNIN_DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  /** `/readyz` fails when the oldest unpublished outbox row is older than this (s). */
  KAKUNIN_READY_MAX_PUBLISH_LAG_S: z.coerce.number().int().min(1).default(60),
  KAKUNIN_KEY_MANAGER: z.enum(["local", "aws-kms", "pkcs11"]).default("local"),
  /** base64 of 32 bytes; otherwise `<data dir>/master.key`, created on first start. */
  KAKUNIN_MASTER_KEY: z.string().optional(),
  /** Local backend: sealed RSA keys kept generated ahead of demand (0 = generate on each certify). */
  KAKUNIN_LOCAL_KEY_POOL: z.coerce.number().int().min(0).max(1024).default(32),
  /** Local backend: RSA key generations at once, one worker thread each (default: os.availableParallelism()). */
  KAKUNIN_LOCAL_KEYGEN_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  KAKUNIN_KMS_ENDPOINT: z.string().url().optional(),
  /** Deadline of every aws-kms / pkcs11 call (a hung KMS or HSM answers `unavailable` after it). */
  KAKUNIN_KMS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** AWS KMS per-request timeout in ms (three attempts each). */
  KAKUNIN_KMS_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(3000),
  AWS_REGION: z.string().optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  AWS_SESSION_TOKEN: z.string().optional(),
  KAKUNIN_PKCS11_MODULE: z.string().default("/usr/lib/softhsm/libsofthsm2.so"),
  KAKUNIN_PKCS11_TOKEN_LABEL: z.string().default("kakunin"),
  KAKUNIN_PKCS11_PIN: z.string().optional(),
  KAKUNIN_CERT_VALIDITY_DAYS: z.coerce.number().int().min(1).max(825).default(365),
  /** Agent certificate validity in seconds; overrides the days (short lifetimes for tests and demos). */
  KAKUNIN_CERT_VALIDITY_SECONDS: z.coerce.number().int().min(1).max(825 * 86_400).optional(),
  /** Default renewal overlap: how long a renewed certificate stays valid beside its successor (24 h). */
  KAKUNIN_RENEWAL_OVERLAP_S: z.coerce.number().int().min(0).max(30 * 86_400).default(86_400),
  /** AWS KMS waiting period before a deleted key is destroyed (7–30 days; AWS's default is 30). */
  KAKUNIN_KEY_DELETION_WINDOW_DAYS: z.coerce.number().int().min(7).max(30).default(30),
  /** Tidy: keys are deleted only this long after their certificate was revoked, superseded or expired (72 h, as Vault PKI). */
  KAKUNIN_TIDY_SAFETY_BUFFER_S: z.coerce.number().int().min(0).default(259_200),
  /** How often the tidy job runs (12 h, as Vault's auto-tidy); 0 disables the periodic run. */
  KAKUNIN_TIDY_INTERVAL_S: z.coerce.number().int().min(0).default(43_200),
  /**
   * Read-only routes that opt in (the audit proofs) reuse an API-key lookup for this long (ms); a
   * key revoked on another origin is refused everywhere at most this long after (docs/security.md).
   * 0 turns it off.
   */
  KAKUNIN_AUTH_CACHE_MS: z.coerce.number().int().min(0).max(1000).default(200),
  /** Memory bound of the in-process cache of committed Merkle nodes and leaf hashes (MiB); 0 turns it off. */
  KAKUNIN_AUDIT_CACHE_MB: z.coerce.number().int().min(0).max(65_536).default(96),
  KAKUNIN_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  /**
   * How long clients may hold the origin's sockets (origin/src/http/server-limits.ts): Node's
   * defaults (60 s for headers, 300 s for a request) let a client sending a byte a second hold one
   * for minutes. 30 s carries the 1 MiB body limit at 35 KB/s.
   */
  KAKUNIN_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  KAKUNIN_HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  KAKUNIN_HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /** A socket silent this long (nothing sent or received, e.g. a client that stopped reading) is closed; above every handler's own deadlines. */
  KAKUNIN_HTTP_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(120_000),
  /**
   * On SIGTERM, how long the origin keeps serving with /readyz answering 503 before it closes its
   * listener (0: at once): long enough for a load balancer's health checks to take it out.
   */
  KAKUNIN_SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(120_000).default(0),
  /** Connections open at once (0: no limit): kept under the process's file descriptor limit, so a flood of sockets cannot starve the database's. */
  KAKUNIN_HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(0).max(1_000_000).default(1000),
  /** Where the origin publishes status records (the edge's base URL). */
  KAKUNIN_EDGE_URL: z.string().url().refine(isPkiBaseUrl, PKI_BASE_URL_MESSAGE).default("http://127.0.0.1:8787"),
  /**
   * The edge URL relying parties reach (written into AIA and CRL Distribution Points of agent and
   * issuing-CA certificates); default KAKUNIN_EDGE_URL. Set it when the origin publishes to the edge
   * by an internal address.
   */
  KAKUNIN_PUBLIC_EDGE_URL: z.string().url().refine(isPkiBaseUrl, PKI_BASE_URL_MESSAGE).optional(),
  /**
   * Arc under which Kakunin's OIDs live (model extension, tenant binding, audit EKU): arcs < 2^32
   * only. Default: RFC 5612's documentation PEN; request your own IANA PEN before production.
   */
  KAKUNIN_OID_ARC: z.string().refine(isSmallArcOid, "KAKUNIN_OID_ARC must be a dotted OID whose arcs are all < 2^32").default(DEFAULT_OID_ARC),
  /**
   * Offline-root mode (docs/ca-lifecycle.md): the PEM file of a root whose key Kakunin never holds.
   * Issuing CAs then come from CSRs signed offline and imported; the root's CRL is uploaded.
   */
  KAKUNIN_ROOT_CERT_FILE: z.string().min(1).optional(),
  /** Shared HMAC secret for origin ⇄ edge calls; otherwise `<data dir>/edge.secret`, created on first start. */
  KAKUNIN_EDGE_SECRET: z.string().min(32, "KAKUNIN_EDGE_SECRET must be at least 32 characters").optional(),
  /** Where sealed audit batches go: a local directory (default) or S3 with Object Lock. */
  KAKUNIN_ARCHIVE: z.enum(["local", "s3"]).default("local"),
  /** Local archive directory; default `<data dir>/archive`. */
  KAKUNIN_ARCHIVE_DIR: z.string().optional(),
  KAKUNIN_S3_ENDPOINT: z.string().url().optional(),
  KAKUNIN_S3_REGION: z.string().default("us-east-1"),
  KAKUNIN_S3_BUCKET: z.string().min(3).max(63).optional(),
  KAKUNIN_S3_ACCESS_KEY_ID: z.string().optional(),
  KAKUNIN_S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** COMPLIANCE retention of archived batches (default 7 years). */
  KAKUNIN_ARCHIVE_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(2557),
  /** Entries per archived object, and the age after which a partial batch is sealed anyway. */
  KAKUNIN_ARCHIVE_BATCH: z.coerce.number().int().min(1).max(100_000).default(1000),
  KAKUNIN_ARCHIVE_MAX_AGE_S: z.coerce.number().int().min(1).default(60),
  /** `off` disables publishing (an origin without an edge, e.g. in unit tests). */
  KAKUNIN_PUBLISH: z.enum(["on", "off"]).default("on"),
  /** `1` lets webhooks reach loopback and private addresses (local use and tests); refused otherwise (SSRF). */
  KAKUNIN_WEBHOOK_ALLOW_PRIVATE: z.enum(["0", "1"]).default("0"),
  /** Attempts before a webhook delivery is dead-lettered, and the first retry delay (doubling, jittered). */
  KAKUNIN_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  KAKUNIN_WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(1).default(5000),
  // At most half the dispatcher's 60 s claim on a delivery: a send still running when the claim
  // lapses is taken over by another origin and goes out twice.
  KAKUNIN_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(10_000),
  /** Endpoints per tenant: each event fans out to every one, on a dispatcher all tenants share. */
  KAKUNIN_WEBHOOK_MAX_ENDPOINTS: z.coerce.number().int().min(1).max(1000).default(20),
  /**
   * Live (unrevoked) API keys per tenant and credentials per agent. A key that can mint keys could
   * otherwise mint them without bound, each one more secret to find and revoke after a leak.
   */
  KAKUNIN_MAX_API_KEYS: z.coerce.number().int().min(1).max(100_000).default(1000),
  KAKUNIN_MAX_AGENT_CREDENTIALS: z.coerce.number().int().min(1).max(1000).default(25),
  /** Days the delivery log keeps delivered and dead deliveries (pending ones are kept until they end). */
  KAKUNIN_WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
});

export type Config = z.infer<typeof configSchema>;

/**
 * The edge URL written into certificates (AIA, CDP): the public one if set, else the publish target.
 * In WHATWG serialisation (an IDN host in punycode, spaces and non-ASCII path characters
 * percent-encoded), without a trailing slash: a GeneralName URI is an IA5String, and a non-ASCII
 * octet in it made Python `cryptography` refuse every certificate (and the CRLs' IDP) outright.
 */
export function publicEdgeUrl(c: Pick<Config, "KAKUNIN_PUBLIC_EDGE_URL" | "KAKUNIN_EDGE_URL">): string {
  return new URL(c.KAKUNIN_PUBLIC_EDGE_URL ?? c.KAKUNIN_EDGE_URL).href.replace(/\/+$/, "");
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new OperatorError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const refused = productionProblems(parsed.data);
  if (refused.length > 0) {
    throw new OperatorError(`KAKUNIN_ENV=production refuses to start:\n${refused.map((p) => `  ${p}`).join("\n")}`);
  }
  return parsed.data;
}
