import { join } from "node:path";
import type { Config } from "./config.ts";
import { openDatabase } from "./db/index.ts";
import { processLogger, type LogFn } from "./observability/logger.ts";

/**
 * `kakunin-origin migrate`: applies pending migrations and exits, for deploys that migrate as a
 * step of their own (with a role that has DDL rights) and run the origin with KAKUNIN_MIGRATE=off
 * under an app role that has none. PostgreSQL migrations run under the same advisory lock as a
 * starting origin's, so a migrate step and a rolling restart never race. Exit 0 when the database
 * is current (already or now), 1 when migrating failed.
 */
export async function migrateCommand(config: Config, log: LogFn = (m, f) => processLogger("migrate").info(m, f)): Promise<number> {
  const database = await openDatabase({
    url: config.DATABASE_URL,
    connectTimeoutMs: config.KAKUNIN_DB_CONNECT_TIMEOUT_MS,
    dir: join(config.KAKUNIN_DATA_DIR, "pglite"),
    migrate: true,
  });
  try {
    const applied = database.migrationsApplied;
    log(
      applied.length === 0
        ? `the ${database.driver} database is current; nothing to do`
        : `applied ${applied.length} migration(s) to the ${database.driver} database: ${applied.join(", ")}`,
      { event: "migrated", driver: database.driver, applied: applied.length },
    );
    return 0;
  } finally {
    await database.close();
  }
}
