import "./platform.ts";
import { CertificateAuthority } from "./ca/authority.ts";
import { systemClock, type Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import { openDatabase, type Database } from "./db/index.ts";
import { createKeyManager } from "./kms/index.ts";
import type { KeyManager } from "./kms/types.ts";
import { secretFromFile } from "./secret-file.ts";
import type { Services } from "./services.ts";
import { join } from "node:path";

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
  overrides: { keys?: (db: Database) => KeyManager; clock?: Clock; inMemoryDb?: boolean } = {},
): Promise<Built> {
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dir: overrides.inMemoryDb ? undefined : join(config.KAKUNIN_DATA_DIR, "pglite"),
  });
  const keys = overrides.keys ? overrides.keys(database) : createKeyManager(config, database.db);
  const clock = overrides.clock ?? systemClock;
  const ca = new CertificateAuthority(database.db, keys, clock, { pendingWindowDays: config.KAKUNIN_KEY_DELETION_WINDOW_DAYS });
  const edgeSecret = config.KAKUNIN_EDGE_SECRET ?? secretFromFile(config.KAKUNIN_DATA_DIR, "edge.secret");
  const services: Services = { config, db: database.db, keys, ca, clock, edgeSecret };
  return {
    services,
    database,
    async close() {
      await keys.close();
      await database.close();
    },
  };
}
