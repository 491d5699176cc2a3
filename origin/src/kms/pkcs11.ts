import { randomBytes } from "node:crypto";
import type { Session } from "graphene-pk11";
import { ok, err, type Result } from "@kakunin/shared";
import type { CreatedKey, KeyManager, KeyManagerError } from "./types.ts";
import { isSessionLost, keyManagerError, operationError } from "./pkcs11-errors.ts";
import { KeyHandleCache } from "./pkcs11-handle-cache.ts";
import {
  destroyQuietly,
  findAllWithId,
  findRsaKey,
  listPrivateKeys,
  generateRsaKeyPair,
  handleCacheKey,
  readRsaSpki,
  signSha256RsaPkcs,
} from "./pkcs11-objects.ts";
import { createSessionPool, PoolClosedError, type SessionPool } from "./pkcs11-session-pool.ts";
import { isLoggedIn, openToken, type OpenedToken } from "./pkcs11-token.ts";
import { formatPkcs11Uri, parsePkcs11Uri, type Pkcs11KeyUri } from "./pkcs11-uri.ts";

export type Pkcs11Options = { modulePath: string; tokenLabel: string; pin: string; poolSize?: number };

/** Default sessions per manager: matches libuv's default thread pool, where our C_Sign calls run. */
const DEFAULT_POOL_SIZE = 4;

type OpenState = { kind: "open"; token: OpenedToken; pool: SessionPool<Session>; handles: KeyHandleCache };
type State = { kind: "idle" } | OpenState | { kind: "rejected"; error: KeyManagerError } | { kind: "closed" };

type Op<T> = Promise<Result<T, KeyManagerError>>;

/**
 * KeyManager over a PKCS#11 token (SoftHSM2, a network HSM, a YubiHSM...). The module is opened on
 * first use, so a misconfigured token surfaces as `not_configured` results rather than a crash at
 * boot, and the CA can still serve what does not need keys.
 */
export function createPkcs11KeyManager(opts: Pkcs11Options): KeyManager {
  const poolSize = opts.poolSize ?? DEFAULT_POOL_SIZE;
  let state: State = { kind: "idle" };
  let closing: Promise<void> | undefined;
  // Pools retired after a lost session; close() waits for them so C_Finalize never races a C_Sign.
  const retiring = new Set<Promise<void>>();

  const ensureOpen = (): Result<OpenState, KeyManagerError> => {
    if (state.kind === "open") return ok(state);
    if (state.kind === "closed") return err(keyManagerError("unavailable", "PKCS#11 key manager is closed"));
    if (state.kind === "rejected") return err(state.error);
    const opened = openToken({ ...opts, sessionCount: poolSize });
    if (!opened.ok) {
      // A wrong PIN is remembered: retrying on every request could lock the token's user PIN.
      if (opened.error.permanent) state = { kind: "rejected", error: opened.error.error };
      return err(opened.error.error);
    }
    const pool = createSessionPool(opened.value.sessions);
    const next: OpenState = { kind: "open", token: opened.value, pool, handles: new KeyHandleCache() };
    state = next;
    return ok(next);
  };

  /** Drops sessions the token no longer honours; the next call opens fresh ones. */
  const retire = (open: OpenState): void => {
    if (state !== open) return;
    state = { kind: "idle" };
    const done = open.pool.drain().then(() => open.token.release());
    retiring.add(done);
    void done.finally(() => retiring.delete(done));
  };

  const run = async <T>(action: string, fn: (session: Session, handles: KeyHandleCache) => Op<T>): Op<T> => {
    const open = ensureOpen();
    if (!open.ok) return open;
    try {
      return await open.value.pool.use((session) => {
        // A lost login hides every private key: retire the sessions (the next call logs in again)
        // rather than answer not_found or an empty list for keys that exist.
        if (!isLoggedIn(session)) throw new Error("CKR_USER_NOT_LOGGED_IN: the token is no longer logged in");
        return fn(session, open.value.handles);
      });
    } catch (e) {
      if (e instanceof PoolClosedError) return err(keyManagerError("unavailable", `PKCS#11 ${action}: session pool closed`));
      if (isSessionLost(e)) retire(open.value);
      return err(operationError(action, e));
    }
  };

  const parseRef = (ref: string): Result<Pkcs11KeyUri, KeyManagerError> => {
    const uri = parsePkcs11Uri(ref);
    if (!uri) return err(keyManagerError("not_found", "not a pkcs11: URI with token and id"));
    if (uri.token !== opts.tokenLabel) {
      return err(keyManagerError("not_found", `ref names token "${uri.token}", this manager serves "${opts.tokenLabel}"`));
    }
    return ok(uri);
  };

  return {
    kind: "pkcs11",

    createKey: (label, createOpts) =>
      run<CreatedKey>("createKey", async (session, handles) => {
        // The intent id is the CKA_ID: the key's reference is known before it exists.
        const id = createOpts?.intent ? uuidBytes(createOpts.intent) ?? randomBytes(16) : randomBytes(16);
        const keys = await generateRsaKeyPair(session, id, label);
        try {
          const publicKeySpki = readRsaSpki(keys.publicKey);
          // A fresh key is usually signed with soon (its certificate); skip the first find.
          handles.set(handleCacheKey("private", id), keys.privateKey.handle);
          handles.set(handleCacheKey("public", id), keys.publicKey.handle);
          return ok({ ref: formatPkcs11Uri({ token: opts.tokenLabel, id, object: label }), publicKeySpki });
        } catch (e) {
          destroyQuietly([keys.privateKey, keys.publicKey]);
          throw e;
        }
      }),

    getPublicKey: async (ref) => {
      const uri = parseRef(ref);
      if (!uri.ok) return uri;
      return run("getPublicKey", async (session, handles) => {
        const found = findRsaKey(session, handles, "public", uri.value.id);
        if (found.kind === "none") return err(keyManagerError("not_found", `no public key with this id on "${opts.tokenLabel}"`));
        if (found.kind === "ambiguous") return err(keyManagerError("failed", `${found.count} public keys share this id`));
        return ok(readRsaSpki(found.object));
      });
    },

    sign: async (ref, data) => {
      const uri = parseRef(ref);
      if (!uri.ok) return uri;
      return run("sign", async (session, handles) => {
        const found = findRsaKey(session, handles, "private", uri.value.id);
        if (found.kind === "none") return err(keyManagerError("not_found", `no private key with this id on "${opts.tokenLabel}"`));
        if (found.kind === "ambiguous") return err(keyManagerError("failed", `${found.count} private keys share this id`));
        return ok(await signSha256RsaPkcs(session, found.object, data));
      });
    },

    scheduleDeletion: async (ref) => {
      const uri = parseRef(ref);
      if (!uri.ok) return uri;
      return run("scheduleDeletion", async (session, handles) => {
        // C_DestroyObject on both halves; a token has no waiting period (tidy's buffer is the wait).
        const objects = findAllWithId(session, uri.value.id);
        handles.delete(handleCacheKey("private", uri.value.id));
        handles.delete(handleCacheKey("public", uri.value.id));
        for (const o of objects) o.destroy();
        return ok({ deletionDate: null, alreadyGone: objects.length === 0 });
      });
    },

    listKeys: () =>
      run("listKeys", async (session) =>
        ok(listPrivateKeys(session).map(({ id, label }) => {
          const intent = uuidOf(id);
          return { ref: formatPkcs11Uri({ token: opts.tokenLabel, id, object: label }), label, ...(intent ? { intent } : {}) };
        }).filter((k) => k.label.startsWith("kakunin-"))),
      ),

    close: () => {
      closing ??= (async () => {
        const previous = state;
        state = { kind: "closed" };
        if (previous.kind === "open") {
          await previous.pool.drain(); // in-flight signs finish; queued ones get `unavailable`
          previous.token.release();
        }
        await Promise.all(retiring);
      })();
      return closing;
    },
  };
}

function uuidBytes(uuid: string): Buffer | undefined {
  const hex = uuid.replace(/-/g, "");
  return /^[0-9a-f]{32}$/i.test(hex) ? Buffer.from(hex, "hex") : undefined;
}

function uuidOf(id: Uint8Array): string | undefined {
  if (id.length !== 16) return undefined;
  const h = Buffer.from(id).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
