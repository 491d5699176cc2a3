import { webcrypto } from "node:crypto";
import { availableParallelism } from "node:os";
import { and, eq, like } from "drizzle-orm";
import { err, ok, type Result } from "@kakunin/shared";
import type { Db } from "../db/index.ts";
import { localKeys } from "../db/schema.ts";
import { createKeygenWorkers, type KeyGenerator } from "./keygen-workers.ts";
import { createKeySupply } from "./local-supply.ts";
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
  /** Key generations running at once, each on its own worker thread (default: one per core). */
  threads?: number;
  /** Where keys come from; defaults to `threads` worker threads. Tests pass one they can pace. */
  generator?: KeyGenerator;
}

/**
 * The development default: RSA-2048 keys whose PKCS#8 is sealed with a master key before it
 * touches the database. Outside this module only the `local:key/<uuid>` reference is visible, so
 * switching to a real KMS changes no caller.
 *
 * RSA-2048 generation (~80–300 ms of CPU, depending on the OpenSSL) is most of an issuance. Keys
 * are generated on worker threads, one per core, never on the event loop; after warm() they keep
 * `poolSize` sealed keys ready in the database so bursts of certify calls claim one (a row update)
 * instead of waiting, and the pool survives restarts. Past the pool, a certify takes the next key a
 * thread finishes (local-supply.ts), so sustained issuance runs at the machine's generation rate.
 */
export function createLocalKeyManager(opts: LocalKeyManagerOptions): KeyManager {
  if (opts.masterKey.length !== 32) throw new Error("local KeyManager master key must be 32 bytes");
  const master = subtle.importKey("raw", opts.masterKey, "AES-GCM", false, ["encrypt", "decrypt"]);
  // Unsealed signing keys, kept non-extractable. Bounded: a CA signs with few keys, agents with many.
  const cache = new Map<string, webcrypto.CryptoKey>();
  const CACHE_MAX = 1024;
  const poolSize = opts.poolSize ?? 0;
  const generator = opts.generator ?? createKeygenWorkers({ threads: opts.threads ?? availableParallelism(), masterKey: opts.masterKey });
  const supply = createKeySupply({ db: opts.db, generator, poolSize });

  const remember = (id: string, key: webcrypto.CryptoKey) => {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(id, key);
  };

  async function loadPrivate(id: string): Promise<webcrypto.CryptoKey | undefined> {
    const hit = cache.get(id);
    if (hit) return hit;
    let row: typeof localKeys.$inferSelect | undefined;
    try {
      [row] = await opts.db.select().from(localKeys).where(and(eq(localKeys.id, id), eq(localKeys.pooled, false)));
    } catch (e) {
      // The store is the database: its outage is not a wrong master key (which sends on-call to
      // the key's configuration instead of the database).
      throw new KeyStoreUnavailable(e);
    }
    if (!row) return undefined;
    const sealed = row.sealedPrivateKey;
    const pkcs8 = await subtle.decrypt({ name: "AES-GCM", iv: sealed.subarray(0, 12), additionalData: enc.encode(id) }, await master, sealed.subarray(12));
    const key = await subtle.importKey("pkcs8", pkcs8, RSA, false, ["sign"]);
    new Uint8Array(pkcs8).fill(0);
    remember(id, key);
    return key;
  }

  /** A read or write of the key store (the database) that failed: unavailable, as a KMS outage is. */
  const storeDown = (ref: string, e: unknown): Result<never, KeyManagerError> =>
    err({ code: "unavailable", message: `local key store unavailable for ${ref}: ${causeOf(e)}` });

  return {
    kind: "local",
    warm() {
      supply.warm();
    },
    poolStatus: () => supply.status(),
    async createKey(label, opts): Promise<Result<CreatedKey, KeyManagerError>> {
      try {
        const key = await supply.take(labelWithIntent(label, opts?.intent));
        return ok({ ref: REF_PREFIX + key.id, publicKeySpki: key.spki });
      } catch (e) {
        // Closed while waiting, or the database refused the key's row: no key was handed out.
        return err({ code: "unavailable", message: `local key not created: ${e instanceof Error ? e.message : String(e)}` });
      }
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
      try {
        const [row] = await opts.db.select({ spki: localKeys.publicKeySpki }).from(localKeys).where(and(eq(localKeys.id, id), eq(localKeys.pooled, false)));
        return row ? ok(row.spki) : err({ code: "not_found", message: `no local key ${ref}` });
      } catch (e) {
        return storeDown(ref, e);
      }
    },
    async sign(ref: string, data: Uint8Array): Promise<Result<Uint8Array, KeyManagerError>> {
      const id = parseRef(ref);
      if (!id) return err({ code: "not_found", message: `not a local key reference: ${ref}` });
      let key: webcrypto.CryptoKey | undefined;
      try {
        key = await loadPrivate(id);
      } catch (e) {
        if (e instanceof KeyStoreUnavailable) return storeDown(ref, e.reason);
        // A wrong master key fails GCM authentication: the key exists but cannot be unsealed.
        return err({ code: "failed", message: `local key ${ref} cannot be unsealed with this master key` });
      }
      if (!key) return err({ code: "not_found", message: `no local key ${ref}` });
      return ok(new Uint8Array(await subtle.sign(RSA, key, data)));
    },
    async close() {
      await supply.close();
      cache.clear();
    },
  };
}

function parseRef(ref: string): string | undefined {
  if (!ref.startsWith(REF_PREFIX)) return undefined;
  const id = ref.slice(REF_PREFIX.length);
  return /^[0-9a-f-]{36}$/.test(id) ? id : undefined;
}

/** Thrown by loadPrivate when the database read failed, so sign can tell it from a failed unseal. */
class KeyStoreUnavailable extends Error {
  constructor(readonly reason: unknown) {
    super("local key store unavailable");
  }
}

function causeOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
