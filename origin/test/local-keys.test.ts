import { randomBytes, webcrypto } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localKeys } from "../src/db/schema.ts";
import { createLocalKeyManager } from "../src/kms/local.ts";
import { dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

const waitFor = async (cond: () => Promise<boolean>, ms = 30_000) => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.each(dbKinds())("local key manager on %s", (kind) => {
  let o: TestOrigin;
  const masterKey = new Uint8Array(randomBytes(32));
  beforeAll(async () => { o = await startTestOrigin(kind); });
  afterAll(async () => { await o.close(); });
  const pooled = async () => (await o.services.db.select().from(localKeys).where(eq(localKeys.pooled, true))).length;

  it("keeps a pool of sealed keys, hands each out once, refills, and survives a restart", async () => {
    const km = createLocalKeyManager({ db: o.services.db, masterKey, poolSize: 3 });
    km.warm!();
    await waitFor(async () => (await pooled()) === 3);
    const created = await Promise.all(Array.from({ length: 5 }, (_, i) => km.createKey(`agent-${i}`)));
    const refs = created.map((c) => (c.ok ? c.value.ref : ""));
    expect(new Set(refs).size).toBe(5);
    for (const c of created) {
      if (!c.ok) throw new Error(c.error.message);
      const data = new TextEncoder().encode("payload");
      const sig = await km.sign(c.value.ref, data);
      const pub = await webcrypto.subtle.importKey("spki", c.value.publicKeySpki, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);
      expect(sig.ok && (await webcrypto.subtle.verify("RSASSA-PKCS1-v1_5", pub, sig.value, data))).toBe(true);
    }
    await waitFor(async () => (await pooled()) === 3);
    await km.close();
    // A new process (same database, same master key) claims what the old one prepared.
    const again = createLocalKeyManager({ db: o.services.db, masterKey, poolSize: 3 });
    const k = await again.createKey("after-restart");
    expect(k.ok).toBe(true);
    expect(await pooled()).toBe(2);
    await again.close();
  });

  it("a pooled key is not usable until it is handed out", async () => {
    const km = createLocalKeyManager({ db: o.services.db, masterKey, poolSize: 1 });
    km.warm!();
    await waitFor(async () => (await pooled()) >= 1);
    const [row] = await o.services.db.select({ id: localKeys.id }).from(localKeys).where(eq(localKeys.pooled, true));
    const ref = `local:key/${row!.id}`;
    expect((await km.sign(ref, new Uint8Array([1]))).ok).toBe(false);
    expect((await km.getPublicKey(ref)).ok).toBe(false);
    await km.close();
  });

  it("a wrong master key cannot unseal, and unknown or malformed refs are not_found", async () => {
    const km = createLocalKeyManager({ db: o.services.db, masterKey, poolSize: 0 });
    const k = await km.createKey("x");
    if (!k.ok) throw new Error("createKey failed");
    const other = createLocalKeyManager({ db: o.services.db, masterKey: new Uint8Array(randomBytes(32)), poolSize: 0 });
    const s = await other.sign(k.value.ref, new Uint8Array([1]));
    expect(s.ok ? "ok" : s.error.code).toBe("failed");
    const missing = await km.sign("local:key/00000000-0000-4000-8000-000000000000", new Uint8Array([1]));
    expect(missing.ok ? "ok" : missing.error.code).toBe("not_found");
    const bad = await km.sign("arn:aws:kms:x", new Uint8Array([1]));
    expect(bad.ok ? "ok" : bad.error.code).toBe("not_found");
    await km.close();
    await other.close();
  });

  it("a database that fails under sign or getPublicKey is unavailable, not a wrong master key", async () => {
    const km = createLocalKeyManager({ db: o.services.db, masterKey, poolSize: 0 });
    const k = await km.createKey("db-down");
    if (!k.ok) throw new Error("createKey failed");
    await km.close();
    // A fresh manager (nothing cached) over a database whose reads fail, as during an outage.
    const down = new Proxy(o.services.db, {
      get: (target, prop, receiver) =>
        prop === "select"
          ? () => {
              throw new Error("connection terminated unexpectedly");
            }
          : Reflect.get(target, prop, receiver),
    });
    const cold = createLocalKeyManager({ db: down, masterKey, poolSize: 0 });
    const s = await cold.sign(k.value.ref, new Uint8Array([1]));
    expect(s.ok ? "ok" : s.error).toMatchObject({ code: "unavailable", message: expect.stringContaining("connection terminated") });
    expect(s.ok ? "" : s.error.message).not.toContain("master key");
    const p = await cold.getPublicKey(k.value.ref);
    expect(p.ok ? "ok" : p.error.code).toBe("unavailable");
    await cold.close();
  });
});
