import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootstrap } from "@kakunin/origin/bootstrap";
import { buildServices, type Built } from "@kakunin/origin/build-services";
import { loadConfig } from "@kakunin/origin/config";

export interface BenchOrigin {
  built: Built;
  tenantId: string;
  close(): Promise<void>;
}

/**
 * The origin's services as origin/test/harness.ts builds them: PGlite in memory, migrated, the
 * default tenant bootstrapped. No HTTP: the benchmark calls appendAudit directly, as the ingest
 * path does inside its transaction, so what is timed is the audit log and the database alone.
 */
export async function startBenchOrigin(): Promise<BenchOrigin> {
  const dataDir = mkdtempSync(join(tmpdir(), "kakunin-bench-audit-"));
  const adminKey = randomBytes(16).toString("hex");
  const config = loadConfig({ KAKUNIN_DATA_DIR: dataDir, KAKUNIN_MASTER_KEY: randomBytes(32).toString("base64"), KAKUNIN_ADMIN_KEY: adminKey });
  const built = await buildServices(config, { inMemoryDb: true });
  const { tenantId } = await bootstrap(built.services.db, adminKey);
  return {
    built,
    tenantId,
    async close() {
      await built.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
