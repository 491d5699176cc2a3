import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { err, ok, type Result } from "@kakunin/shared";

/**
 * Addresses a webhook may never reach (SSRF): loopback, private, link-local (cloud metadata at
 * 169.254.169.254), CGNAT, multicast, unspecified and reserved ranges, in IPv4 and IPv6, including
 * IPv4-mapped IPv6. Checked when an endpoint is registered AND on every delivery against the
 * address actually connected to, so a name that later resolves to 127.0.0.1 (DNS rebinding) is refused.
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  blocked.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
  ["2001:db8::", 32],
  ["64:ff9b::", 96],
  ["100::", 64],
] as const)
  blocked.addSubnet(net, prefix, "ipv6");

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1]!, "ipv4");
    return blocked.check(address, "ipv6");
  }
  return true;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/**
 * Resolves a webhook host and returns the address to connect to, refusing private ones unless
 * `allowPrivate` (local use and tests). Every resolved address must be public: a name with one
 * public and one private record could be steered to the private one.
 */
export async function resolvePublic(host: string, allowPrivate: boolean, resolve: Resolver = systemResolver): Promise<Result<ResolvedAddress, string>> {
  const bare = host.replace(/^\[|\]$/g, "");
  let addresses: ResolvedAddress[];
  if (isIP(bare)) addresses = [{ address: bare, family: isIP(bare) === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await resolve(bare);
    } catch (e) {
      return err(`cannot resolve ${bare}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (addresses.length === 0) return err(`${bare} has no address`);
  if (!allowPrivate) {
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) return err(`${bare} resolves to ${bad.address}, a loopback, private or reserved address`);
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
  return ok(u);
}
