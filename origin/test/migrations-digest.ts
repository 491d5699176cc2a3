import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { migrationsFolder } from "../src/db/index.ts";

/**
 * A short digest of every shipped migration file (SQL and drizzle's journal): names the migrated
 * template databases, so a changed or added migration makes a new template instead of reusing one.
 */
export function migrationsDigest(extra = ""): string {
  const h = createHash("sha256").update(`${extra}\n`);
  const files = readdirSync(migrationsFolder, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".sql") || f.endsWith(".json"))
    .sort();
  for (const f of files) h.update(`${f}\n`).update(readFileSync(join(migrationsFolder, f)));
  return h.digest("hex").slice(0, 16);
}
