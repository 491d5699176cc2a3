import { parseIp } from "./ip-parse.ts";

/**
 * Which addresses a webhook may reach, from the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries (entries not "globally reachable" are refused). The most specific matching entry
 * decides, as in the registries, where a globally reachable block can sit inside a refused one.
 *
 * IPv6 is an allow-list: only global unicast 2000::/3 is public, so a range this table does not
 * know (site-local fec0::/10, a future assignment) is refused. The forms that carry an IPv4
 * address which the network may deliver to (IPv4-mapped, NAT64 well-known prefix, 6to4, Teredo's
 * server and obfuscated client) are judged by the IPv4 rules, so 2002:7f00:1:: is loopback.
 */
type Rule =
  | { kind: "public" }
  | { kind: "refused"; label: string }
  /** Public only when every IPv4 address it embeds is. */
  | { kind: "embeds"; label: string; ipv4: (a: Uint8Array) => Uint8Array[] };

const refused = (label: string): Rule => ({ kind: "refused", label });
const PUBLIC: Rule = { kind: "public" };
const lastFour = (a: Uint8Array) => [a.slice(12, 16)];

const IPV4: [string, Rule][] = [
  ["0.0.0.0/0", PUBLIC],
  ["0.0.0.0/8", refused("'this network'")],
  ["10.0.0.0/8", refused("private (RFC 1918)")],
  ["100.64.0.0/10", refused("shared address space (CGNAT)")],
  ["127.0.0.0/8", refused("loopback")],
  ["169.254.0.0/16", refused("link-local (cloud metadata)")],
  ["172.16.0.0/12", refused("private (RFC 1918)")],
  // Its two globally reachable /32s (192.0.0.9, .10) are anycast services, never a webhook receiver.
  ["192.0.0.0/24", refused("IETF protocol assignments")],
  ["192.0.2.0/24", refused("documentation")],
  ["192.88.99.0/24", refused("deprecated 6to4 relay anycast")],
  ["192.168.0.0/16", refused("private (RFC 1918)")],
  ["198.18.0.0/15", refused("benchmarking")],
  ["198.51.100.0/24", refused("documentation")],
  ["203.0.113.0/24", refused("documentation")],
  ["224.0.0.0/4", refused("multicast")],
  ["240.0.0.0/4", refused("reserved (and broadcast)")],
];

const IPV6: [string, Rule][] = [
  ["::/0", refused("outside global unicast 2000::/3")],
  ["::/128", refused("unspecified")],
  ["::1/128", refused("loopback")],
  ["::/96", refused("IPv4-compatible (deprecated)")],
  // What a dual-stack socket shows for an IPv4 peer: it is that IPv4 address.
  ["::ffff:0:0/96", { kind: "embeds", label: "IPv4-mapped", ipv4: lastFour }],
  ["::ffff:0:0:0/96", refused("IPv4-translated (SIIT)")],
  // DNS64 answers with these on IPv6-only networks; the NAT64 gateway connects to the IPv4 inside.
  ["64:ff9b::/96", { kind: "embeds", label: "NAT64", ipv4: lastFour }],
  ["64:ff9b:1::/48", refused("local-use NAT64 (RFC 8215)")],
  ["100::/64", refused("discard-only")],
  ["100:0:0:1::/64", refused("dummy prefix (RFC 9780)")],
  ["2000::/3", PUBLIC],
  ["2001::/23", refused("IETF protocol assignments")],
  ["2001::/32", { kind: "embeds", label: "Teredo", ipv4: (a) => [a.slice(4, 8), a.slice(12, 16).map((b) => b ^ 0xff)] }],
  ["2001:1::1/128", PUBLIC],
  ["2001:1::2/128", PUBLIC],
  ["2001:1::3/128", PUBLIC],
  ["2001:2::/48", refused("benchmarking")],
  ["2001:3::/32", PUBLIC],
  ["2001:4:112::/48", PUBLIC],
  ["2001:10::/28", refused("deprecated ORCHID")],
  ["2001:20::/28", PUBLIC],
  ["2001:30::/28", PUBLIC],
  ["2001:db8::/32", refused("documentation")],
  ["2002::/16", { kind: "embeds", label: "6to4", ipv4: (a) => [a.slice(2, 6)] }],
  ["3fff::/20", refused("documentation (RFC 9637)")],
  ["5f00::/16", refused("segment routing SIDs")],
  ["fc00::/7", refused("unique local")],
  ["fe80::/10", refused("link-local")],
  ["fec0::/10", refused("site-local (deprecated)")],
  ["ff00::/8", refused("multicast")],
];

interface Entry {
  net: Uint8Array;
  bits: number;
  rule: Rule;
}

/** Most specific first, so the first match is the registry's answer. */
function compile(table: [string, Rule][]): Entry[] {
  return table
    .map(([cidr, rule]) => {
      const [net, bits] = cidr.split("/");
      const bytes = parseIp(net!);
      if (!bytes) throw new Error(`bad range ${cidr}`);
      return { net: bytes, bits: Number(bits), rule };
    })
    .sort((a, b) => b.bits - a.bits);
}

const ipv4Table = compile(IPV4);
const ipv6Table = compile(IPV6);

function inPrefix(a: Uint8Array, { net, bits }: Entry): boolean {
  for (let i = 0; i < bits; i += 8) {
    const mask = bits - i >= 8 ? 0xff : (0xff << (8 - (bits - i))) & 0xff;
    if ((a[i / 8]! & mask) !== net[i / 8]) return false;
  }
  return true;
}

const dotted = (a: Uint8Array) => a.join(".");

/**
 * Why an address (4 or 16 bytes) is not public, or null when a webhook may reach it.
 * Every address matches some entry: both tables start from the whole address space.
 */
export function whyNotPublic(a: Uint8Array): string | null {
  const table = a.length === 4 ? ipv4Table : ipv6Table;
  const rule = table.find((e) => inPrefix(a, e))!.rule;
  if (rule.kind === "public") return null;
  if (rule.kind === "refused") return rule.label;
  for (const v4 of rule.ipv4(a)) {
    const why = whyNotPublic(v4);
    if (why) return `${rule.label} of ${dotted(v4)}, ${why}`;
  }
  return null;
}
