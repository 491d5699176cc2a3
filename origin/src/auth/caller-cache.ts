/**
 * API-key lookups remembered for a short, fixed time, for read-only routes that opt in
 * (`requireReadRole`): the proof routes, where the lookup was most of the cost. Each entry is used
 * for at most `ttlMs` after the database read that produced it started, so a key revoked on any
 * origin is refused by every origin at most `ttlMs` after the revocation committed (the same shape
 * as the edge's 200 ms verify cache); the origin that revokes forgets at once (`clear`). Only
 * successful lookups of tenant API keys are kept, by the key's SHA-256 (never the key itself);
 * unknown or revoked keys and agent credentials are always read from the database. Routes that
 * change anything never use it. docs/security.md, "Authentication cache".
 */
import type { Clock } from "../clock.ts";
import type { Caller } from "./authenticate.ts";

const MAX_ENTRIES = 10_000;

export class CallerCache {
  readonly #entries = new Map<string, { caller: Caller; readAt: number }>();

  /** `ttlMs` 0 turns the cache off. */
  constructor(
    readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  /** The caller read for this key hash less than `ttlMs` ago, if any. */
  get(keyHash: string): Caller | undefined {
    const e = this.#entries.get(keyHash);
    if (!e) return undefined;
    const age = this.clock.now().getTime() - e.readAt;
    // A clock that went backwards makes the age meaningless: read again.
    if (age < 0 || age >= this.ttlMs) {
      this.#entries.delete(keyHash);
      return undefined;
    }
    return e.caller;
  }

  /** Keeps a caller whose database read started at `readAt` (epoch ms, from the same clock). */
  put(keyHash: string, caller: Caller, readAt: number): void {
    if (this.ttlMs <= 0 || caller.role === "agent") return;
    this.#entries.delete(keyHash);
    this.#entries.set(keyHash, { caller, readAt });
    if (this.#entries.size > MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** Forgets everything: called after this origin revokes a key. */
  clear(): void {
    this.#entries.clear();
  }
}
