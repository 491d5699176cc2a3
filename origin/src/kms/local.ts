import { randomUUID, webcrypto } from "node:crypto";
import { eq } from "drizzle-orm";
import { err, ok, type Result } from "@kakunin/shared";
import type { Db } from "../db/index.ts";
import { localKeys } from "../db/schema.ts";
import type { CreatedKey, KeyManager, KeyManagerError } from "./types.ts";
import { KeyPool } from "./key-pool.ts";

const subtle = webcrypto.subtle;
const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const REF_PREFIX = "local:key/";

export interface LocalKeyManagerOptions {
  db: Db;
  /** 32-byte AES-256-GCM key that seals every private key at rest. */
  masterKey: Uint8Array;
  /** Key pairs generated ahead of demand; 0 disables the pool. */
  poolSize?: number;
}

/**
 * The development default: WebCrypto RSA keys whose PKCS#8 is sealed with a master key before it
 * touches the database. Outside this module only the `local:key/<uuid>` reference is visible, so
 * switching to a real KMS changes no caller.
 */
export function createLocalKeyManager(opts: LocalKeyManagerOptions): KeyManager {
  if (opts.masterKey.length !== 32) throw new Error("local KeyManager master key must be 32 bytes");
  const master = subtle.importKey("raw", opts.masterKey, "AES-GCM", false, ["encrypt", "decrypt"]);
  // Unsealed signing keys, kept non-extractable. Bounded: a CA signs with few keys, agents with many.
  const cache = new Map<string, webcrypto.CryptoKey>();
  const CACHE_MAX = 1024;
  const pool = new KeyPool(opts.poolSize ?? 4, generatePair);

  const remember = (id: string, key: webcrypto.CryptoKey) => {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(id, key);
  };

  async function loadPrivate(id: string): Promise<webcrypto.CryptoKey | undefined> {
    const hit = cache.get(id);
    if (hit) return hit;
    const [row] = await opts.db.select().from(localKeys).where(eq(localKeys.id, id));
    if (!row) return undefined;
    const sealed = row.sealedPrivateKey;
    const pkcs8 = await subtle.decrypt(
      { name: "AES-GCM", iv: sealed.subarray(0, 12), additionalData: new TextEncoder().encode(id) },
      await master,
      sealed.subarray(12),
    );
    const key = await subtle.importKey("pkcs8", pkcs8, RSA, false, ["sign"]);
    remember(id, key);
    return key;
  }

  return {
    kind: "local",
    async createKey(label: string): Promise<Result<CreatedKey, KeyManagerError>> {
      const pair = await pool.take();
      const id = randomUUID();
      const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", pair.privateKey));
      const spki = new Uint8Array(await subtle.exportKey("spki", pair.publicKey));
      const iv = webcrypto.getRandomValues(new Uint8Array(12));
      const ct = new Uint8Array(
        await subtle.encrypt({ name: "AES-GCM", iv, additionalData: new TextEncoder().encode(id) }, await master, pkcs8),
      );
      // Sign with a non-extractable copy; the extractable pair from generation is dropped here.
      const signing = await subtle.importKey("pkcs8", pkcs8, RSA, false, ["sign"]);
      pkcs8.fill(0);
      const sealed = new Uint8Array(12 + ct.length);
      sealed.set(iv);
      sealed.set(ct, 12);
      await opts.db.insert(localKeys).values({ id, label, publicKeySpki: spki, sealedPrivateKey: sealed });
      remember(id, signing);
      return ok({ ref: REF_PREFIX + id, publicKeySpki: spki });
    },
    async getPublicKey(ref: string): Promise<Result<Uint8Array, KeyManagerError>> {
      const id = parseRef(ref);
      if (!id) return err({ code: "not_found", message: `not a local key reference: ${ref}` });
      const [row] = await opts.db.select({ spki: localKeys.publicKeySpki }).from(localKeys).where(eq(localKeys.id, id));
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
      pool.stop();
      cache.clear();
    },
  };
}

function parseRef(ref: string): string | undefined {
  if (!ref.startsWith(REF_PREFIX)) return undefined;
  const id = ref.slice(REF_PREFIX.length);
  return /^[0-9a-f-]{36}$/.test(id) ? id : undefined;
}

function generatePair(): Promise<webcrypto.CryptoKeyPair> {
  return subtle.generateKey(
    { ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  ) as Promise<webcrypto.CryptoKeyPair>;
}
