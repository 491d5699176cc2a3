import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A secret from the environment, else from `<data dir>/<name>`, created on first start with mode
 * 0600 (`wx`: never overwrite one another process just wrote). Used for dev defaults only; real
 * deployments set the variable.
 */
export function secretFromFile(dataDir: string, name: string, bytes = 32): string {
  const file = join(dataDir, name);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(bytes).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
    } catch (e) {
      if (!(e instanceof Error && "code" in e && e.code === "EEXIST")) throw e;
    }
  }
  return readFileSync(file, "utf8").trim();
}
