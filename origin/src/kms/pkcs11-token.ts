import { existsSync } from "node:fs";
import { createHash, timingSafeEqual } from "node:crypto";
import { Module, SessionFlag, type Session, type Slot } from "graphene-pk11";
import { ok, err, type Result } from "@kakunin/shared";
import type { KeyManagerError } from "./types.ts";
import { ckrName, isPinError, keyManagerError } from "./pkcs11-errors.ts";

/**
 * Process-wide bookkeeping for PKCS#11 modules and logins.
 *
 * Why not one Module per manager: C_Initialize/C_Finalize and the login state are per process (per
 * application, in PKCS#11 terms), not per handle. A second manager calling C_Finalize would kill
 * the first one's sessions, and C_Logout on one session logs out every session to that token. So
 * initialisation and login are reference-counted here and undone only by their last user.
 */

// CK_C_INITIALIZE_ARGS.flags: the library may use OS mutexes. Required because signs run on the
// libuv thread pool, i.e. several native threads call into the module at once.
const CKF_OS_LOCKING_OK = 0x2;

interface LibraryEntry {
  module: Module;
  users: number;
  logins: Map<string, { users: number; pinDigest: Buffer }>;
}

// Loaded modules are kept for the life of the process: dlclose + dlopen cycles of HSM libraries
// (which often register atexit handlers or keep OpenSSL state) are a known source of crashes.
const loaded = new Map<string, Module>();
const initialised = new Map<string, LibraryEntry>();

export interface TokenConfig {
  modulePath: string;
  tokenLabel: string;
  pin: string;
  sessionCount: number;
}

export interface OpenedToken {
  sessions: Session[];
  /** Closes the sessions; logs out / finalizes only if this was the last user. Idempotent. */
  release(): void;
}

/** Why opening failed; `permanent` marks a rejected PIN, which must not be retried automatically. */
export interface OpenFailure {
  error: KeyManagerError;
  permanent: boolean;
}

const pinDigest = (pin: string): Buffer => createHash("sha256").update(pin, "utf8").digest();

// CK_STATE values of a session whose token is logged in as the normal user (PKCS#11 §5.6).
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

/**
 * Whether the token behind `session` is still logged in. Login is per token and application, so a
 * C_Logout anywhere in the process (another PKCS#11 user of the module) or a token that dropped it
 * leaves our sessions open but public: private keys vanish from C_FindObjects, and without this
 * check sign answered `not_found`, listKeys an empty list (tidy then abandoned intents whose keys
 * exist) and scheduleDeletion destroyed only the public half, until the process restarted.
 */
export function isLoggedIn(session: Session): boolean {
  const { state } = session.lib.C_GetSessionInfo(session.handle);
  return state === CKS_RW_USER_FUNCTIONS || state === CKS_RO_USER_FUNCTIONS;
}

function acquireLibrary(modulePath: string): Result<LibraryEntry, OpenFailure> {
  const existing = initialised.get(modulePath);
  if (existing) {
    existing.users++;
    return ok(existing);
  }
  const notConfigured = (why: string) =>
    err({ error: keyManagerError("not_configured", `PKCS#11 module ${modulePath}: ${why}`), permanent: false });
  if (!existsSync(modulePath)) return notConfigured("file not found");
  try {
    const module = loaded.get(modulePath) ?? Module.load(modulePath);
    loaded.set(modulePath, module);
    module.initialize({ flags: CKF_OS_LOCKING_OK });
    const entry: LibraryEntry = { module, users: 1, logins: new Map() };
    initialised.set(modulePath, entry);
    return ok(entry);
  } catch (e) {
    return notConfigured(e instanceof Error ? e.message : String(e));
  }
}

function releaseLibrary(modulePath: string, entry: LibraryEntry): void {
  if (--entry.users > 0) return;
  initialised.delete(modulePath);
  try {
    entry.module.finalize();
  } catch {
    // Already finalized or the device is gone: nothing left to release.
  }
}

function findSlot(module: Module, tokenLabel: string): Result<Slot, string> {
  const matches: Slot[] = [];
  for (const slot of module.getSlots(true)) {
    if (slot.getToken().label === tokenLabel) matches.push(slot);
  }
  const [slot, ...others] = matches;
  if (!slot) return err(`no token labelled "${tokenLabel}"`);
  // Keys are found by CKA_ID, so a same-labelled second token would silently split the key set.
  if (others.length > 0) return err(`${matches.length} tokens are labelled "${tokenLabel}"`);
  return ok(slot);
}

/** Login is shared by all sessions to a token; a second manager must bring the same PIN. */
function login(entry: LibraryEntry, key: string, session: Session, pin: string): Result<void, OpenFailure> {
  const digest = pinDigest(pin);
  const current = entry.logins.get(key);
  if (current) {
    if (!timingSafeEqual(current.pinDigest, digest)) {
      return err({ error: keyManagerError("not_configured", "PKCS#11 PIN differs from the active login"), permanent: true });
    }
    // The registry says logged in, but the token may have lost it (see isLoggedIn): log in again.
    if (!isLoggedIn(session)) {
      const again = loginSession(session, pin);
      if (!again.ok) return again;
    }
    current.users++;
    return ok(undefined);
  }
  const loggedIn = loginSession(session, pin);
  if (!loggedIn.ok) return loggedIn;
  entry.logins.set(key, { users: 1, pinDigest: digest });
  return ok(undefined);
}

function loginSession(session: Session, pin: string): Result<void, OpenFailure> {
  try {
    session.login(pin);
  } catch (e) {
    // Someone outside this registry logged in; we cannot check the PIN without logging them out.
    if (ckrName(e) !== "CKR_USER_ALREADY_LOGGED_IN") {
      const error = keyManagerError(isPinError(e) ? "not_configured" : "unavailable", `PKCS#11 login: ${ckrName(e) ?? String(e)}`);
      return err({ error, permanent: isPinError(e) });
    }
  }
  return ok(undefined);
}

function closeAll(sessions: Session[]): void {
  for (const s of sessions) {
    try {
      s.close();
    } catch {
      // A session the token already dropped needs no closing.
    }
  }
}

export function openToken(cfg: TokenConfig): Result<OpenedToken, OpenFailure> {
  const lib = acquireLibrary(cfg.modulePath);
  if (!lib.ok) return lib;
  const entry = lib.value;
  const sessions: Session[] = [];
  const fail = (failure: OpenFailure): Result<OpenedToken, OpenFailure> => {
    closeAll(sessions);
    releaseLibrary(cfg.modulePath, entry);
    return err(failure);
  };
  try {
    const slot = findSlot(entry.module, cfg.tokenLabel);
    if (!slot.ok) return fail({ error: keyManagerError("not_configured", `PKCS#11: ${slot.error}`), permanent: false });
    // RW: createKey writes token objects. SERIAL is mandatory per the spec.
    for (let i = 0; i < cfg.sessionCount; i++) sessions.push(slot.value.open(SessionFlag.RW_SESSION | SessionFlag.SERIAL_SESSION));
    const key = slot.value.handle.toString("hex");
    const first = sessions[0];
    if (!first) return fail({ error: keyManagerError("not_configured", "PKCS#11: pool size must be >= 1"), permanent: true });
    const loggedIn = login(entry, key, first, cfg.pin);
    if (!loggedIn.ok) return fail(loggedIn.error);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const state = entry.logins.get(key);
      if (state && --state.users === 0) {
        entry.logins.delete(key);
        try {
          first.logout();
        } catch {
          // Closing the last session logs out anyway (PKCS#11 C_CloseSession).
        }
      }
      closeAll(sessions);
      releaseLibrary(cfg.modulePath, entry);
    };
    return ok({ sessions, release });
  } catch (e) {
    return fail({ error: keyManagerError("unavailable", `PKCS#11 open: ${ckrName(e) ?? String(e)}`), permanent: false });
  }
}
