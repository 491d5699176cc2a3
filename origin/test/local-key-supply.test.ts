import { createCipheriv, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, webcrypto } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { localKeys } from "../src/db/schema.ts";
import type { KeyGenerator, SealedKey } from "../src/kms/keygen-workers.ts";
import { createLocalKeyManager } from "../src/kms/local.ts";
import { dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

const masterKey = new Uint8Array(randomBytes(32));
const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

/** A real key sealed as the worker seals it, so the KeyManager can sign with what it hands out. */
function sealedKey(): SealedKey {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "der" },
    privateKeyEncoding: { type: "pkcs8", format: "der" },
  });
  const id = randomUUID();
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", masterKey, iv);
  c.setAAD(Buffer.from(id));
  return { id, spki: new Uint8Array(publicKey), sealed: new Uint8Array(Buffer.concat([iv, c.update(privateKey), c.final(), c.getAuthTag()])) };
}

/** A generator the test paces: each generate() waits until the test finishes that generation. */
function pacedGenerator(threads: number) {
  const started: { key: SealedKey; finish(): void }[] = [];
  const generator: KeyGenerator = {
    threads,
    generate: () =>
      new Promise<SealedKey>((resolve) => {
        const key = sealedKey();
        started.push({ key, finish: () => resolve(key) });
      }),
    close: async () => {},
  };
  return { generator, started };
}

const tick = async (cond: () => boolean | Promise<boolean>, ms = 10_000) => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe.each(dbKinds())("local key supply on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });
  // Each test starts from an empty pool (the origin's own KeyManager never warms here).
  beforeEach(async () => {
    await o.services.db.delete(localKeys).where(eq(localKeys.pooled, true));
  });
  const pooled = async () => (await o.services.db.select().from(localKeys).where(eq(localKeys.pooled, true))).length;

  it("with no ready key, requests queue for the generator's next key, oldest first, and nothing is generated inline", async () => {
    const { generator, started } = pacedGenerator(2);
    const km = createLocalKeyManager({ db: o.services.db, masterKey, poolSize: 0, generator });
    const order: number[] = [];
    const calls = [0, 1, 2].map((i) => km.createKey(`agent-${i}`).then((r) => (order.push(i), r)));
    // Three requests, two threads: two generations run, the third request waits for one of them.
    await tick(() => started.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(started.length).toBe(2);
    started[1]!.finish();
    const first = await calls[0]!;
    expect(first.ok && first.value.ref).toBe(`local:key/${started[1]!.key.id}`);
    // The finished thread starts the third request's key; the oldest remaining request gets the next.
    await tick(() => started.length === 3);
    started[2]!.finish();
    started[0]!.finish();
    const all = await Promise.all(calls);
    expect(order).toEqual([0, 1, 2]);
    const refs = all.map((r) => (r.ok ? r.value.ref : ""));
    expect(new Set(refs).size).toBe(3);
    expect(refs.map((r) => r.slice("local:key/".length)).sort()).toEqual(started.map((s) => s.key.id).sort());
    for (const [i, r] of all.entries()) {
      if (!r.ok) throw new Error(r.error.message);
      const [row] = await o.services.db
        .select()
        .from(localKeys)
        .where(eq(localKeys.id, r.value.ref.slice("local:key/".length)));
      expect(row?.label).toBe(`agent-${i}`);
      expect(row?.pooled).toBe(false);
      const data = new TextEncoder().encode("payload");
      const sig = await km.sign(r.value.ref, data);
      const pub = await webcrypto.subtle.importKey("spki", r.value.publicKeySpki, RSA, false, ["verify"]);
      expect(sig.ok && (await webcrypto.subtle.verify(RSA, pub, sig.value, data))).toBe(true);
    }
    await km.close();
  });

  it("refills on all threads but one, hands a waiting request the first key to finish, and stops at the target", async () => {
    const { generator, started } = pacedGenerator(3);
    const km = createLocalKeyManager({ db: o.services.db, masterKey, poolSize: 2, generator });
    km.warm!();
    // Nobody waits: the refill leaves one thread (a core) to the event loop.
    await tick(() => started.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(started.length).toBe(2);
    // A request with the pool empty may use the idle thread, and takes whichever key finishes first.
    const waiting = km.createKey("agent-w");
    await tick(() => started.length === 3);
    started[1]!.finish();
    const got = await waiting;
    expect(got.ok && got.value.ref).toBe(`local:key/${started[1]!.key.id}`);
    started[0]!.finish();
    started[2]!.finish();
    await tick(async () => (await pooled()) === 2);
    await new Promise((r) => setTimeout(r, 50));
    // Exactly the target: one key handed out, two pooled, nothing generated beyond the demand.
    expect(started.length).toBe(3);
    expect(await km.poolStatus!()).toEqual({ ready: 2, target: 2 });
    await km.close();
  });

  it("close() answers a waiting request with unavailable instead of leaving it hanging", async () => {
    const { generator } = pacedGenerator(1);
    const km = createLocalKeyManager({ db: o.services.db, masterKey, poolSize: 0, generator });
    const waiting = km.createKey("agent-c");
    await new Promise((r) => setTimeout(r, 20));
    await km.close();
    const r = await waiting;
    expect(r.ok ? "ok" : r.error.code).toBe("unavailable");
  });

  it("worker threads generate RSA-2048 keys (e = 65537) the KeyManager can unseal and sign with", async () => {
    const km = createLocalKeyManager({ db: o.services.db, masterKey, poolSize: 4, threads: 2 });
    km.warm!();
    await tick(async () => (await pooled()) === 4, 60_000);
    const keys = await Promise.all(Array.from({ length: 6 }, (_, i) => km.createKey(`agent-${i}`)));
    for (const k of keys) {
      if (!k.ok) throw new Error(k.error.message);
      const details = createPublicKey({ key: Buffer.from(k.value.publicKeySpki), format: "der", type: "spki" }).asymmetricKeyDetails;
      expect(details).toEqual({ modulusLength: 2048, publicExponent: 65537n });
      const data = new TextEncoder().encode("payload");
      const sig = await km.sign(k.value.ref, data);
      const pub = await webcrypto.subtle.importKey("spki", k.value.publicKeySpki, RSA, false, ["verify"]);
      expect(sig.ok && (await webcrypto.subtle.verify(RSA, pub, sig.value, data))).toBe(true);
    }
    await tick(async () => (await pooled()) === 4, 60_000);
    await km.close();
  }, 120_000);
});
