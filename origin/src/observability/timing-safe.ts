import { createHash, timingSafeEqual } from "node:crypto";

/** Constant-time comparison of two secrets of any length (both hashed first, so lengths leak nothing). */
export function timingSafeEqualText(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}
