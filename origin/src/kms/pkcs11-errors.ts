import type { KeyManagerError, KeyManagerErrorCode } from "./types.ts";

/** The CKR_* name in a pkcs11js error (its message is e.g. "CKR_PIN_INCORRECT"), if any. */
export function ckrName(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  return /CKR_[A-Z0-9_]+/.exec(e.message)?.[0];
}

/** A wrong or locked PIN: retrying would only burn the token's retry counter. */
const PIN_ERRORS = new Set([
  "CKR_PIN_INCORRECT",
  "CKR_PIN_INVALID",
  "CKR_PIN_LEN_RANGE",
  "CKR_PIN_EXPIRED",
  "CKR_PIN_LOCKED",
]);

/**
 * The token or our sessions went away (HSM restart, network HSM blip, someone logged out).
 * These become 503s, and the manager reopens its sessions on the next call.
 */
const SESSION_LOST_ERRORS = new Set([
  "CKR_DEVICE_ERROR",
  "CKR_DEVICE_MEMORY",
  "CKR_DEVICE_REMOVED",
  "CKR_TOKEN_NOT_PRESENT",
  "CKR_TOKEN_NOT_RECOGNIZED",
  "CKR_SESSION_CLOSED",
  "CKR_SESSION_HANDLE_INVALID",
  "CKR_USER_NOT_LOGGED_IN",
  "CKR_CRYPTOKI_NOT_INITIALIZED",
]);

export function isPinError(e: unknown): boolean {
  return PIN_ERRORS.has(ckrName(e) ?? "");
}

export function isSessionLost(e: unknown): boolean {
  return SESSION_LOST_ERRORS.has(ckrName(e) ?? "");
}

export function keyManagerError(code: KeyManagerErrorCode, message: string): KeyManagerError {
  return { code, message };
}

/** Maps a thrown PKCS#11 error from an operation to the KeyManager contract. */
export function operationError(action: string, e: unknown): KeyManagerError {
  const name = ckrName(e);
  const detail = name ?? (e instanceof Error ? e.message : String(e));
  if (isSessionLost(e) || name === "CKR_HOST_MEMORY" || name === "CKR_SESSION_COUNT") {
    return keyManagerError("unavailable", `PKCS#11 ${action}: ${detail}`);
  }
  return keyManagerError("failed", `PKCS#11 ${action}: ${detail}`);
}
