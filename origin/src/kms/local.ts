import { randomUUID, webcrypto } from "node:crypto";
import { and, count, eq, like, sql } from "drizzle-orm";
import { err, ok, type Result } from "@kakunin/shared";
import { rowsOfResult, type Db } from "../db/index.ts";
import { localKeys } from "../db/schema.ts";
import type { CreatedKey, KeyManager, KeyManagerError, ListedKey } from "./types.ts";

const subtle = webcrypto.subtle;
const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const REF_PREFIX = "local:key/";
const enc = new TextEncoder();
// The intent id rides in the label (a pooled key's id was fixed when it was generated).
const INTENT_MARK = " intent=";

const labelWithIntent = (label: string, intent: string | undefined): string => (intent ? `${label}${INTENT_MARK}${intent}` : label);

export interface LocalKeyManagerOptions {
  db: Db;
  /** 32-byte AES-256-GCM key that seals every private key at rest. */
  masterKey: Uint8Array;
  /** Sealed keys kept generated ahead of demand once warm() is called; 0 disables the pool. */
  poolSize?: number;
}

/**
 * The development default: WebCrypto RSA keys whose PKCS#8 is sealed with a master key before it
 * touches the database. Outside this module only the `local:key/<uuid>` reference is visible, so
 * switching to a real KMS changes no caller.
 *
 * RSA-2048 generation (~100–250 ms of CPU) is most of an issuance, so after warm() a background
 * filler keeps `poolSize` sealed keys ready in the database, one generation at a time: bursts of
 * certify calls claim a ready key (a row update) instead of waiting, and the pool survives
 * restarts. A pooled key is generated and sealed exactly like any other; it is just made earlier.
 */
export function createLocalKeyManager(opts: LocalKeyManagerOptions): KeyManager {
  if (opts.masterKey.length !== 32) throw new Error("local KeyManager master key must be 32 bytes");
  const master = subtle.importKey("raw", opts.masterKey, "AES-GCM", false, ["encrypt", "decrypt"]);
  // Unsealed signing keys, kept non-extractable. Bounded: a CA signs with few keys, agents with many.
  const cache = new Map<string, webcrypto.CryptoKey>();
  const CACHE_MAX = 1024;
  const poolSize = opts.poolSize ?? 0;
  let filling = false;
  let stopped = false;
  let warmed = false;

  const remember = (id: string, key: webcrypto.CryptoKey) => {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(id, key);
  };

  /** Generates and seals a key; inserted as pooled (ahead of demand) or for `label` at once. */
  async function generateSealed(label: string, pooled: boolean): Promise<CreatedKey> {
    const pair = (await subtle.generateKey({ ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const id = randomUUID();
    const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", pair.privateKey));
    const spki = new Uint8Array(await subtle.exportKey("spki", pair.publicKey));
    const iv = webcrypto.getRandomValues(new Uint8Array(12));
    const ct = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: enc.encode(id) }, await master, pkcs8));
    if (!pooled) remember(id, await subtle.importKey("pkcs8", pkcs8, RSA, false, ["sign"]));
    pkcs8.fill(0);
    const sealed = new Uint8Array(12 + ct.length);
    sealed.set(iv);
    sealed.set(ct, 12);
    await opts.db.insert(localKeys).values({ id, label, publicKeySpki: spki, sealedPrivateKey: sealed, pooled });
    return { ref: REF_PREFIX + id, publicKeySpki: spki };
  }

  /** Hands out the oldest ready key; SKIP LOCKED keeps two origins from claiming the same one. */
  async function claim(label: string): Promise<CreatedKey | undefined> {
    const res = await opts.db.execute(sql`
      update ${localKeys} set pooled = false, label = ${label}, created_at = now()
      where id = (select id from ${localKeys} where pooled order by created_at limit 1 for update skip locked)
      returning id, public_key_spki`);
    const row = rowsOfResult<{ id: string; public_key_spki: Uint8Array }>(res)[0];
    if (!row) return undefined;
    const spki = row.public_key_spki;
    return { ref: REF_PREFIX + row.id, publicKeySpki: new Uint8Array(spki.buffer, spki.byteOffset, spki.byteLength) };
  }

  async function fill(): Promise<void> {
    if (filling || stopped || poolSize <= 0) return;
    filling = true;
    try {
      for (;;) {
        if (stopped) return;
        const [row] = await opts.db.select({ n: count() }).from(localKeys).where(eq(localKeys.pooled, true));
        if ((row?.n ?? 0) >= poolSize) return;
        await generateSealed("pool", true);
      }
    } catch (e) {
      if (!stopped) console.warn(`[origin] local key pool: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      filling = false;
    }
  }

  async function loadPrivate(id: string): Promise<webcrypto.CryptoKey | undefined> {
    const hit = cache.get(id);
    if (hit) return hit;
    const [row] = await opts.db.select().from(localKeys).where(and(eq(localKeys.id, id), eq(localKeys.pooled, false)));
    if (!row) return undefined;
    const sealed = row.sealedPrivateKey;
    const pkcs8 = await subtle.decrypt({ name: "AES-GCM", iv: sealed.subarray(0, 12), additionalData: enc.encode(id) }, await master, sealed.subarray(12));
    const key = await subtle.importKey("pkcs8", pkcs8, RSA, false, ["sign"]);
    new Uint8Array(pkcs8).fill(0);
    remember(id, key);
    return key;
  }

  return {
    kind: "local",
    warm() {
      warmed = true;
      void fill();
    },
    async poolStatus() {
      const [row] = await opts.db.select({ n: count() }).from(localKeys).where(eq(localKeys.pooled, true));
      return { ready: row?.n ?? 0, target: poolSize };
    },
    async createKey(label, opts): Promise<Result<CreatedKey, KeyManagerError>> {
      const stored = labelWithIntent(label, opts?.intent);
      const ready = poolSize > 0 ? await claim(stored) : undefined;
      if (warmed) void fill();
      return ok(ready ?? (await generateSealed(stored, false)));
    },
    async scheduleDeletion(ref) {
      const id = parseRef(ref);
      if (!id) return err({ code: "not_found", message: `not a local key reference: ${ref}` });
      cache.delete(id);
      // No waiting period here: the sealed key is deleted at once (tidy's safety buffer is the wait).
      const gone = await opts.db.delete(localKeys).where(and(eq(localKeys.id, id), eq(localKeys.pooled, false))).returning({ id: localKeys.id });
      return ok({ deletionDate: null, alreadyGone: gone.length === 0 });
    },
    async listKeys() {
      const rows = await opts.db
        .select({ id: localKeys.id, label: localKeys.label })
        .from(localKeys)
        .where(and(eq(localKeys.pooled, false), like(localKeys.label, "kakunin-%")));
      return ok(rows.map((r): ListedKey => {
        const at = r.label.indexOf(INTENT_MARK);
        return at < 0
          ? { ref: REF_PREFIX + r.id, label: r.label }
          : { ref: REF_PREFIX + r.id, label: r.label.slice(0, at), intent: r.label.slice(at + INTENT_MARK.length) };
      }));
    },
    async getPublicKey(ref: string): Promise<Result<Uint8Array, KeyManagerError>> {
      const id = parseRef(ref);
      if (!id) return err({ code: "not_found", message: `not a local key reference: ${ref}` });
      const [row] = await opts.db.select({ spki: localKeys.publicKeySpki }).from(localKeys).where(and(eq(localKeys.id, id), eq(localKeys.pooled, false)));
      return row ? ok(row.spki) : err({ code: "not_found", message: `no local key ${ref}` });
    },
    async sign(ref: string, data: Uint8Array): Promise<Result<Uint8Array, KeyManagerError>> {
      const id = parseRef(ref);
      if (!id) return err({ code: "not_found", message: `not a local key reference: ${ref}` });
      let key: webcrypto.CryptoKey | undefined;
      try {
        key = await loadPrivate(id);
      } catch {
        // A wrong master key fails GCM authentication: the key exists but cannot be unsealed.
        return err({ code: "failed", message: `local key ${ref} cannot be unsealed with this master key` });
      }
      if (!key) return err({ code: "not_found", message: `no local key ${ref}` });
      return ok(new Uint8Array(await subtle.sign(RSA, key, data)));
    },
    async close() {
      stopped = true;
      while (filling) await new Promise((r) => setTimeout(r, 10));
      cache.clear();
    },
  };
}

function parseRef(ref: string): string | undefined {
  if (!ref.startsWith(REF_PREFIX)) return undefined;
  const id = ref.slice(REF_PREFIX.length);
  return /^[0-9a-f-]{36}$/.test(id) ? id : undefined;
}
