import "./platform.ts";
import { readFileSync } from "node:fs";
import { kakuninOids } from "@kakunin/shared";
import { LogSizes } from "./audit/log-size.ts";
import { AuditNodeCache } from "./audit/node-cache.ts";
import { CallerCache } from "./auth/caller-cache.ts";
import { CertificateAuthority } from "./ca/authority.ts";
import { auditAuthorityCreated } from "./lifecycle/ca-created-audit.ts";
import { systemClock, type Clock } from "./clock.ts";
import { publicEdgeUrl, type Config } from "./config.ts";
import { openDatabase, type Database } from "./db/index.ts";
import { StorageFaults } from "./db/storage-faults.ts";
import { createKeyManager } from "./kms/index.ts";
import { BackgroundHealth } from "./observability/background-health.ts";
import { instrumentKeyManager } from "./observability/instrument-keys.ts";
import { createLogger, type Logger } from "./observability/logger.ts";
import { createMetrics, registerBackgroundGauges, registerKeyPoolGauges } from "./observability/metrics.ts";
import type { KeyManager } from "./kms/types.ts";
import { secretFromFile } from "./secret-file.ts";
import type { Services } from "./services.ts";
import { join } from "node:path";

/** PostgreSQL: how long a storage fault a request met keeps /readyz not ready. */
const STORAGE_FAULT_WINDOW_MS = 60_000;

export interface Built {
  services: Services;
  database: Database;
  close(): Promise<void>;
}

/**
 * Opens the database (migrating it) and builds every service from config. Tests pass their own
 * key manager or clock; everything else comes from config exactly as in production.
 */
export async function buildServices(
  config: Config,
  overrides: { keys?: (db: Database) => KeyManager; clock?: Clock; inMemoryDb?: boolean; pgliteTemplate?: Blob; logger?: Logger } = {},
): Promise<Built> {
  const pgliteDir = overrides.inMemoryDb || config.DATABASE_URL ? undefined : join(config.KAKUNIN_DATA_DIR, "pglite");
  const database = await openDatabase({
    url: config.DATABASE_URL,
    connectTimeoutMs: config.KAKUNIN_DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.KAKUNIN_DB_STATEMENT_TIMEOUT_MS,
    dir: pgliteDir,
    migrate: config.KAKUNIN_MIGRATE !== "off",
    ...(overrides.inMemoryDb && overrides.pgliteTemplate ? { pgliteTemplate: overrides.pgliteTemplate } : {}),
  });
  const metrics = createMetrics({ db: database.db, ...(database.poolStats ? { pool: database.poolStats } : {}) });
  const logger = overrides.logger ?? createLogger({ level: config.KAKUNIN_LOG_LEVEL });
  const keys = instrumentKeyManager(overrides.keys ? overrides.keys(database) : createKeyManager(config, database.db), metrics);
  if (keys.poolStatus) registerKeyPoolGauges(metrics.registry, () => keys.poolStatus!());
  const clock = overrides.clock ?? systemClock;
  const ca = new CertificateAuthority(database.db, keys, clock, kakuninOids(config.KAKUNIN_OID_ARC), publicEdgeUrl(config), {
    pendingWindowDays: config.KAKUNIN_KEY_DELETION_WINDOW_DAYS,
    onCreated: auditAuthorityCreated,
    ...(config.KAKUNIN_ROOT_CERT_FILE ? { offlineRootPem: readFileSync(config.KAKUNIN_ROOT_CERT_FILE, "utf8") } : {}),
  });
  const now = () => clock.now().getTime();
  const storageFaults = new StorageFaults({ sticky: database.driver === "pglite", windowMs: STORAGE_FAULT_WINDOW_MS, now });
  const background = new BackgroundHealth({ now, storageFaults });
  registerBackgroundGauges(metrics.registry, background);
  const edgeSecret = config.KAKUNIN_EDGE_SECRET ?? secretFromFile(config.KAKUNIN_DATA_DIR, "edge.secret");
  const services: Services = {
    config,
    db: database.db,
    keys,
    ca,
    clock,
    edgeSecret,
    logger,
    metrics,
    auditNodes: new AuditNodeCache(config.KAKUNIN_AUDIT_CACHE_MB * 1024 * 1024),
    auditSizes: new LogSizes(database.db, clock),
    callers: new CallerCache(config.KAKUNIN_AUTH_CACHE_MS, clock),
    ...(pgliteDir ? { storageDir: pgliteDir } : {}),
    storageFaults,
    background,
  };
  return {
    services,
    database,
    async close() {
      await keys.close();
      await database.close();
    },
  };
}
