import { lookup } from "node:dns/promises";
import { err, ok, type Result } from "@kakunin/shared";
import { parseIp } from "./ip-parse.ts";
import { concurrencyLimit } from "./lookup-limit.ts";
import { whyNotPublic } from "./ip-ranges.ts";

/**
 * Addresses a webhook may never reach (SSRF): loopback, private, link-local (cloud metadata at
 * 169.254.169.254), CGNAT, multicast, documentation, unspecified and reserved ranges, in IPv4 and
 * IPv6, including IPv6 forms that embed or translate a private IPv4 address (ip-ranges.ts). Checked
 * when an endpoint is registered AND on every delivery against the address actually connected to,
 * so a name that later resolves to 127.0.0.1 (DNS rebinding) is refused.
 */
function whyPrivate(address: string): string | null {
  const bytes = parseIp(address);
  return bytes ? whyNotPublic(bytes) : "not an IP address";
}

export function isPrivateAddress(address: string): boolean {
  return whyPrivate(address) !== null;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

/** System lookups in flight at once, of libuv's 4 pool threads (lookup-limit.ts says why). */
export const MAX_SYSTEM_LOOKUPS = 2;
/** How long a lookup waits for a slot: the delivery's own default deadline. */
const LOOKUP_WAIT_MS = 10_000;

/** A resolver over `lookup` (getaddrinfo: /etc/hosts, then DNS) that runs at most `max` lookups at once. */
export function limitedResolver(lookupAll: (host: string) => Promise<{ address: string; family: number }[]>, max: number, waitMs: number): Resolver {
  const limit = concurrencyLimit(max, waitMs);
  return async (host) => (await limit(() => lookupAll(host))).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

export const systemResolver: Resolver = limitedResolver((host) => lookup(host, { all: true, verbatim: true }), MAX_SYSTEM_LOOKUPS, LOOKUP_WAIT_MS);

/**
 * Resolves a webhook host and returns the address to connect to, refusing private ones unless
 * `allowPrivate` (local use and tests). Every resolved address must be public: a name with one
 * public and one private record could be steered to the private one.
 */
export async function resolvePublic(host: string, allowPrivate: boolean, resolve: Resolver = systemResolver): Promise<Result<ResolvedAddress, string>> {
  const bare = host.replace(/^\[|\]$/g, "");
  const literal = parseIp(bare);
  let addresses: ResolvedAddress[];
  if (literal) addresses = [{ address: bare, family: literal.length === 16 ? 6 : 4 }];
  else {
    try {
      addresses = await resolve(bare);
    } catch (e) {
      return err(`cannot resolve ${bare}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (addresses.length === 0) return err(`${bare} has no address`);
  if (!allowPrivate) {
    for (const a of addresses) {
      const why = whyPrivate(a.address);
      // For a name, the answer is not repeated: the refusal (the 422, the delivery log) would
      // otherwise map the deployment's internal DNS names to addresses for any tenant admin.
      if (why) return err(literal ? `${bare} is ${why}, not a public address` : `${bare} resolves to a non-public address (${why})`);
    }
  }
  return ok(addresses[0]!);
}

/** Checks a URL's shape (http/https, no credentials) before any resolution. */
export function checkWebhookUrl(raw: string): Result<URL, string> {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return err("not an absolute URL");
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return err("must be http or https");
  if (u.username || u.password) return err("must not carry credentials");
  if (u.hash) return err("must not have a fragment");
  // No service listens on port 0, and some socket APIs read it as "any port".
  if (u.port === "0") return err("must not use port 0");
  return ok(u);
}
