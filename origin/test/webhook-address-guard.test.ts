import { describe, expect, it } from "vitest";
import { checkWebhookUrl, isPrivateAddress, resolvePublic } from "../src/webhooks/address-guard.ts";

// Addresses a webhook must never reach. The IPv6 ones that embed or translate an IPv4 address
// carry a loopback, private or link-local one (127.0.0.1, 169.254.169.254, 10.0.0.1, 192.168.1.1).
const refused: [string, string][] = [
  ["127.0.0.1", "IPv4 loopback"],
  ["169.254.169.254", "IPv4 link-local (cloud metadata)"],
  ["192.88.99.1", "deprecated 6to4 relay anycast"],
  ["255.255.255.255", "limited broadcast"],
  ["::", "unspecified"],
  ["::1", "loopback"],
  ["0:0:0:0:0:0:0:1", "loopback, uncompressed"],
  ["::127.0.0.1", "IPv4-compatible, dotted"],
  ["::a9fe:a9fe", "IPv4-compatible, hex"],
  ["::8.8.8.8", "IPv4-compatible (deprecated) even with a public IPv4"],
  ["::ffff:127.0.0.1", "IPv4-mapped, dotted"],
  ["::ffff:7f00:1", "IPv4-mapped, hex"],
  ["0:0:0:0:0:ffff:a9fe:a9fe", "IPv4-mapped, uncompressed"],
  ["::ffff:0:7f00:1", "SIIT IPv4-translated"],
  ["::ffff:0:8.8.8.8", "SIIT IPv4-translated, not globally reachable"],
  ["2002:7f00:1::", "6to4 of 127.0.0.1"],
  ["2002:a9fe:a9fe::", "6to4 of 169.254.169.254"],
  ["2002:c0a8:101:1::1", "6to4 of 192.168.1.1"],
  ["64:ff9b::7f00:1", "NAT64 well-known prefix of 127.0.0.1"],
  ["64:ff9b::169.254.169.254", "NAT64 well-known prefix, dotted"],
  ["64:ff9b:1::7f00:1", "local-use NAT64 (RFC 8215)"],
  ["64:ff9b:1::8.8.8.8", "local-use NAT64 is not globally reachable"],
  ["2001::1", "Teredo (server 0.0.0.0)"],
  ["2001:0:a00:1::f5ff:fffe", "Teredo with a private server (10.0.0.1)"],
  ["2001:0:808:808::80ff:fffe", "Teredo with an obfuscated client 127.0.0.1"],
  ["2001:2::1", "benchmarking"],
  ["2001:10::1", "deprecated ORCHID"],
  ["2001:db8::1", "documentation"],
  ["3fff::1", "documentation (RFC 9637)"],
  ["3fff:fff:ffff::1", "documentation (RFC 9637), end of the block"],
  ["5f00::1", "SRv6 SIDs"],
  ["100::1", "discard-only"],
  ["fec0::1", "site-local (deprecated)"],
  ["fc00::1", "unique-local"],
  ["fd12:3456::1", "unique-local"],
  ["fe80::1", "link-local"],
  ["fe80::1%eth0", "link-local with a zone id"],
  ["ff02::1", "multicast"],
  ["4000::1", "outside global unicast 2000::/3"],
  ["::1:2:3:4", "outside global unicast 2000::/3"],
  ["not-an-address", "not an address"],
  ["1::2::3", "two '::'"],
  ["1:2:3:4:5:6:7:8:9", "nine groups"],
  ["12345::1", "a group over 16 bits"],
  ["::ffff:256.0.0.1", "a dotted quad over 255"],
  ["::ffff:01.2.3.4", "a dotted quad with a leading zero (octal to some parsers)"],
  ["1.2.3.4::", "a dotted quad that is not last"],
];

const allowed: [string, string][] = [
  ["8.8.8.8", "public IPv4"],
  ["93.184.216.34", "public IPv4"],
  ["2606:4700::1111", "public IPv6"],
  ["2606:4700:0000:0000:0000:0000:0000:1111", "public IPv6, uncompressed"],
  ["2606:4700::1111%0", "public IPv6 with a zone id"],
  ["::ffff:8.8.8.8", "IPv4-mapped public IPv4 (a dual-stack socket's view of 8.8.8.8)"],
  ["64:ff9b::808:808", "DNS64 synthesis of 8.8.8.8 (well-known prefix, globally reachable)"],
  ["2002:808:808::1", "6to4 of 8.8.8.8"],
  ["2001:0:808:808::f7f7:f7f7", "Teredo, server 8.8.8.8, client 8.8.8.8"],
  ["2001:3::1", "AMT (globally reachable inside 2001::/23)"],
  ["2001:4:112::1", "AS112-v6"],
  ["2001:20::1", "ORCHIDv2"],
  ["2620:4f:8000::1", "direct delegation AS112"],
  ["3fff:1000::1", "just past the RFC 9637 documentation block"],
  ["2001:200::1", "just past 2001::/23"],
];

describe("webhook address guard: the IANA special-purpose registries, and IPv4 embedded in IPv6", () => {
  it.each(refused)("refuses %s (%s)", (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(allowed)("allows %s (%s)", (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it("holds at delivery time too: a name that resolves to an IPv6 form of loopback or metadata is refused", async () => {
    for (const address of ["::ffff:0:7f00:1", "2002:a9fe:a9fe::", "64:ff9b:1::7f00:1", "2001::1", "fec0::1", "3fff::1"]) {
      const r = await resolvePublic("hooks.example", false, async () => [{ address, family: 6 }]);
      expect(r.ok, address).toBe(false);
      // Refused without repeating the answer: a refusal must not map internal DNS names to addresses.
      if (!r.ok) expect(r.error).not.toContain(address);
      if (!r.ok) expect(r.error).toContain("non-public");
    }
    expect((await resolvePublic("hooks.example", false, async () => [{ address: "2606:4700::1111", family: 6 }])).ok).toBe(true);
  });

  it("judges a literal host in any textual form, brackets and all", async () => {
    for (const host of ["[::127.0.0.1]", "[0:0:0:0:0:ffff:7f00:1]", "[2002:7f00:1::]", "[64:ff9b:1::7f00:1]"]) {
      const never = async () => {
        throw new Error(`a literal (${host}) must not go to DNS`);
      };
      expect((await resolvePublic(host, false, never)).ok, host).toBe(false);
    }
  });

  it("refuses port 0 (no service listens there; some stacks pick any port for it)", () => {
    expect(checkWebhookUrl("http://example.com:0/").ok).toBe(false);
    expect(checkWebhookUrl("https://example.com:00/h").ok).toBe(false);
    expect(checkWebhookUrl("https://example.com:8443/h").ok).toBe(true);
  });
});
