import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The local KeyManager's master key: KAKUNIN_MASTER_KEY (base64 of 32 bytes) if set, else
 * `<data dir>/master.key`, created on first start with mode 0600. Losing it makes every local
 * private key unusable, exactly like losing a KMS.
 */
export function loadMasterKey(envValue: string | undefined, dataDir: string): Uint8Array {
  if (envValue) return decode(envValue, "KAKUNIN_MASTER_KEY");
  const file = join(dataDir, "master.key");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    // `wx`: never overwrite a key another process created a moment ago.
    try {
      writeFileSync(file, randomBytes(32).toString("base64") + "\n", { mode: 0o600, flag: "wx" });
    } catch (e) {
      if (!(e instanceof Error && "code" in e && e.code === "EEXIST")) throw e;
    }
  }
  return decode(readFileSync(file, "utf8").trim(), file);
}

function decode(b64: string, source: string): Uint8Array {
  const key = Buffer.from(b64, "base64");
  if (key.length !== 32) throw new Error(`${source} must be base64 of exactly 32 bytes (got ${key.length})`);
  return new Uint8Array(key);
}
