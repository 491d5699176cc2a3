import type { AuditNodeCache } from "./audit/node-cache.ts";
import type { LogSizes } from "./audit/log-size.ts";
import type { CallerCache } from "./auth/caller-cache.ts";
import type { CertificateAuthority } from "./ca/authority.ts";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Db } from "./db/index.ts";
import type { StorageFaults } from "./db/storage-faults.ts";
import type { KeyManager } from "./kms/types.ts";
import type { BackgroundHealth } from "./observability/background-health.ts";
import type { Logger } from "./observability/logger.ts";
import type { Metrics } from "./observability/metrics.ts";

/** Everything a handler needs, built once at start and put on the Hono context. No singletons. */
export interface Services {
  config: Config;
  db: Db;
  keys: KeyManager;
  ca: CertificateAuthority;
  clock: Clock;
  /** Structured JSON logs (never secrets). */
  logger: Logger;
  /** Prometheus registry and the counters/histograms code updates. */
  metrics: Metrics;
  /** Origin ⇄ edge HMAC secret: signs publications and ingest tokens, checks calls from the edge. */
  edgeSecret: string;
  /** Committed Merkle chunks of every tenant's tree (write-once, memory-bounded): proofs, tree heads, since_size. */
  auditNodes: AuditNodeCache;
  /** Committed log sizes as last read: a proof for a size known to exist reads no size. */
  auditSizes: LogSizes;
  /** API-key lookups for read-only routes, each used for at most KAKUNIN_AUTH_CACHE_MS. */
  callers: CallerCache;
  /**
   * PGlite's data directory when the database is embedded on disk (absent for PostgreSQL and in
   * memory): /readyz checks that it still takes writes, which PGlite itself does not report.
   */
  storageDir?: string;
  /** Writes the database's storage refused (a read-only or full disk): /readyz is not ready meanwhile. */
  storageFaults: StorageFaults;
  /** Each background job's last success and failures in a row: /readyz and /metrics show a stuck one. */
  background: BackgroundHealth;
  /** Told after every committed change so the edge learns of it at once; absent when publishing is off. */
  publisher?: { kick(): void; readonly edgeUnreachable?: boolean };
  /** Told after every committed change so queued webhooks go out at once; absent when not running. */
  webhooks?: { kick(): void };
  /** Set once the process is told to stop: /readyz answers 503 at once and answers close their connections (shutdown.ts). */
  drain?: { readonly active: boolean };
}
