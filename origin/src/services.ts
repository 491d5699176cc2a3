import type { CertificateAuthority } from "./ca/authority.ts";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Db } from "./db/index.ts";
import type { KeyManager } from "./kms/types.ts";
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
  /** Told after every committed change so the edge learns of it at once; absent when publishing is off. */
  publisher?: { kick(): void };
  /** Told after every committed change so queued webhooks go out at once; absent when not running. */
  webhooks?: { kick(): void };
}
