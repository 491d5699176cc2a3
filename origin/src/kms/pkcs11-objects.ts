import {
  KeyType,
  MechanismEnum,
  ObjectClass,
  SessionObject,
  type IKeyPair,
  type ITemplate,
  type Key,
  type Session,
} from "graphene-pk11";
import { ckrName } from "./pkcs11-errors.ts";
import type { KeyHandleCache } from "./pkcs11-handle-cache.ts";
import { bitLength, rsaSpkiFromComponents } from "./pkcs11-spki.ts";

/** Token-object helpers for the pkcs11 backend. Every native call here is short except the two awaited ones. */

const CKA_LABEL = 0x03;
const CKA_ID = 0x102;
const CKA_MODULUS = 0x120;
const CKA_PUBLIC_EXPONENT = 0x122;
const RSA_BITS = 2048;
const F4 = Buffer.from([0x01, 0x00, 0x01]);

/**
 * Generates the pair on the token (C_GenerateKeyPair on the libuv thread pool: RSA keygen takes
 * tens to hundreds of ms and must not block the event loop).
 */
export function generateRsaKeyPair(session: Session, id: Uint8Array, label: string): Promise<IKeyPair> {
  const common = { token: true, keyType: KeyType.RSA, id: Buffer.from(id), label };
  const publicTemplate: ITemplate = {
    ...common,
    private: false,
    verify: true,
    encrypt: false,
    wrap: false,
    modulusBits: RSA_BITS,
    publicExponent: F4,
  };
  const privateTemplate: ITemplate = {
    ...common,
    private: true,
    // The point of an HSM: the private half can be used, never read or wrapped out.
    sensitive: true,
    extractable: false,
    sign: true,
    decrypt: false,
    unwrap: false,
    derive: false,
  };
  return new Promise((resolve, reject) => {
    session.generateKeyPair(MechanismEnum.RSA_PKCS_KEY_PAIR_GEN, publicTemplate, privateTemplate, (e, keys) => {
      if (e) reject(e);
      else if (keys) resolve(keys);
      else reject(new Error("C_GenerateKeyPair returned no keys"));
    });
  });
}

export type KeyClass = "public" | "private";
export type FoundKey = { kind: "found"; object: SessionObject } | { kind: "none" } | { kind: "ambiguous"; count: number };

export const handleCacheKey = (cls: KeyClass, id: Uint8Array): string => `${cls}:${Buffer.from(id).toString("hex")}`;

/** A cached handle, if it still names an object with this CKA_ID; one short C_GetAttributeValue. */
function fromCache(session: Session, cache: KeyHandleCache, key: string, id: Uint8Array): SessionObject | undefined {
  const handle = cache.get(key);
  if (handle === undefined) return undefined;
  const object = new SessionObject(handle, session, session.lib);
  try {
    if (Buffer.from(id).equals(object.getAttribute(CKA_ID))) return object;
  } catch (e) {
    if (ckrName(e) !== "CKR_OBJECT_HANDLE_INVALID") throw e;
  }
  cache.delete(key);
  return undefined;
}

export function findRsaKey(session: Session, cache: KeyHandleCache, cls: KeyClass, id: Uint8Array): FoundKey {
  const key = handleCacheKey(cls, id);
  const cached = fromCache(session, cache, key, id);
  if (cached) return { kind: "found", object: cached };
  const found = session.find({
    class: cls === "public" ? ObjectClass.PUBLIC_KEY : ObjectClass.PRIVATE_KEY,
    keyType: KeyType.RSA,
    id: Buffer.from(id),
  });
  if (found.length === 0) return { kind: "none" };
  if (found.length > 1) return { kind: "ambiguous", count: found.length };
  const object = found.items(0);
  cache.set(key, object.handle);
  return { kind: "found", object };
}

/** DER SPKI of an RSA public key object; throws if it is not RSA-2048 (not a key we made). */
export function readRsaSpki(publicKey: SessionObject): Uint8Array {
  const modulus = publicKey.getAttribute(CKA_MODULUS);
  const exponent = publicKey.getAttribute(CKA_PUBLIC_EXPONENT);
  if (bitLength(modulus) !== RSA_BITS) throw new Error(`expected an RSA-${RSA_BITS} key, found ${bitLength(modulus)} bits`);
  return rsaSpkiFromComponents(modulus, exponent);
}

/** RSASSA-PKCS1-v1_5 / SHA-256: C_SignInit here, C_Sign (the slow part) on the libuv thread pool. */
export function signSha256RsaPkcs(session: Session, privateKey: SessionObject, data: Uint8Array): Promise<Uint8Array> {
  const signer = session.createSign(MechanismEnum.SHA256_RSA_PKCS, privateKey.toType<Key>());
  return new Promise((resolve, reject) => {
    signer.once(Buffer.from(data.buffer, data.byteOffset, data.byteLength), (e, signature) => {
      // Copy: pkcs11js returns a view into its 1 KiB scratch buffer.
      if (e) reject(e);
      else resolve(new Uint8Array(signature));
    });
  });
}

/** Best-effort removal of a half-finished pair, so a failed createKey leaves no orphan on the token. */
export function destroyQuietly(objects: SessionObject[]): void {
  for (const o of objects) {
    try {
      o.destroy();
    } catch {
      // Nothing more we can do; the orphan has no ref anywhere, so it is unreachable, not dangerous.
    }
  }
}

/** Every object (either half of a pair) with this CKA_ID. */
export function findAllWithId(session: Session, id: Uint8Array): SessionObject[] {
  const found = session.find({ id: Buffer.from(id) });
  const out: SessionObject[] = [];
  for (let i = 0; i < found.length; i++) out.push(found.items(i));
  return out;
}

/** CKA_ID and CKA_LABEL of every RSA private key on the token. */
export function listPrivateKeys(session: Session): { id: Uint8Array; label: string }[] {
  const found = session.find({ class: ObjectClass.PRIVATE_KEY, keyType: KeyType.RSA });
  const out: { id: Uint8Array; label: string }[] = [];
  for (let i = 0; i < found.length; i++) {
    const o = found.items(i);
    out.push({ id: new Uint8Array(o.getAttribute(CKA_ID)), label: o.getAttribute(CKA_LABEL).toString("utf8") });
  }
  return out;
}
