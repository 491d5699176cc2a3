import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/**
 * Every signature the origin hands out goes through signVerified (origin/src/kms/verified-sign.ts),
 * which checks it under the intended public key: a new call site calling KeyManager.sign directly
 * would again publish whatever a faulty KMS or HSM answered.
 */
describe("KeyManager.sign is called only through signVerified", () => {
  it("no file outside origin/src/kms calls keys.sign directly", () => {
    const direct = sources(SRC)
      .filter((f) => !relative(SRC, f).startsWith("kms/"))
      .filter((f) => /\bkeys\.sign\(/.test(readFileSync(f, "utf8")))
      .map((f) => relative(SRC, f));
    expect(direct).toEqual([]);
  });
});
