import { describe, expect, it } from "vitest";
import { callerCheckReasons, canonicalSerial, inScope, normaliseSerial, statusAt } from "../src/rules.ts";

// @kakunin/verify/rules: the one copy of the rules the edge (workers/, through shared/) and
// gateways apply; workers/test/verify.test.ts checks the edge's answers built from them.
describe("shared verdict rules", () => {
  const t = Date.parse("2026-06-01T00:00:00Z");
  const cert = { status: "active" as const, superseded_at: null, not_after: "2026-07-01T00:00:00Z" };

  it("status at a time: revocation is stored, supersession and expiry follow from the clock", () => {
    expect(statusAt(cert, t)).toBe("active");
    expect(statusAt({ ...cert, status: "revoked" }, t)).toBe("revoked");
    expect(statusAt(cert, Date.parse(cert.not_after))).toBe("expired"); // not_after itself is expired
    expect(statusAt({ ...cert, superseded_at: "2026-05-31T00:00:00Z" }, t)).toBe("superseded");
    expect(statusAt({ ...cert, superseded_at: "2026-06-02T00:00:00Z" }, t)).toBe("active"); // inside the overlap
    expect(statusAt({ ...cert, status: "revoked", superseded_at: "2026-05-31T00:00:00Z" }, t)).toBe("revoked"); // revocation wins
  });

  it("serials: canonical form for the edge's path, whitespace ignored only where values are read", () => {
    expect(canonicalSerial("4A:0B:FF")).toBe("4a0bff");
    expect(canonicalSerial(" 4a")).toBeUndefined();
    expect(normaliseSerial(" 4A:0b \n")).toBe("4a0b");
    expect(canonicalSerial("ab".repeat(21))).toBeUndefined(); // > 20 octets
    // One number, one key: DER's sign-padding octet and a dropped leading zero digit (big.Int, int) are the same serial.
    expect(canonicalSerial("00:8F:01")).toBe("8f01");
    expect(canonicalSerial("006b7d")).toBe("6b7d");
    expect(canonicalSerial("a0b")).toBe("0a0b");
    expect(canonicalSerial("0a0b")).toBe("0a0b");
    expect(canonicalSerial("00")).toBeUndefined(); // zero is not a positive serial
    expect(canonicalSerial("0".repeat(41))).toBeUndefined();
    expect(canonicalSerial(`00${"8f".repeat(20)}`)).toBe("8f".repeat(20)); // 20 octets once the padding is off
    expect(canonicalSerial(`0000${"8f".repeat(20)}`)).toBe("8f".repeat(20));
    const kakunin = "4d2f0c9a1b3e5f7081928374a5b6c7d8"; // 16 octets, first 0x40–0x7f: unchanged
    expect(canonicalSerial(kakunin)).toBe(kakunin);
  });

  it("caller checks: model hash and every wanted scope", () => {
    expect(inScope(["orders.*"], "orders.place")).toBe(true);
    expect(inScope(["orders.*"], "ordersx.place")).toBe(false);
    const reasons = callerCheckReasons({ model: { hash: "h1" }, scopes: ["orders.*"] }, { modelHash: "h2", scopes: ["orders.place", "payments.wire"] });
    expect(reasons.map((r) => r.code)).toEqual(["model_hash_mismatch", "scope_not_granted"]);
    expect(callerCheckReasons({ model: { hash: "h1" }, scopes: ["*"] }, { scopes: ["a.b"] })).toEqual([]);
  });

  it("caller checks: the risk ceiling (either limit refuses, with one reason; no risk, no reason)", () => {
    const cert = { model: { hash: "h1" }, scopes: ["*"] };
    const medium = { band: "medium", score: 0.5 } as const;
    expect(callerCheckReasons(cert, { maxBand: "low" }, medium).map((r) => r.code)).toEqual(["risk_too_high"]);
    expect(callerCheckReasons(cert, { maxBand: "medium", maxRisk: 0.1 }, medium).map((r) => r.code)).toEqual(["risk_too_high"]);
    expect(callerCheckReasons(cert, { maxBand: "low", maxRisk: 0.1 }, medium).map((r) => r.code)).toEqual(["risk_too_high"]);
    expect(callerCheckReasons(cert, { maxBand: "medium", maxRisk: 0.9 }, medium)).toEqual([]);
    expect(callerCheckReasons(cert, { maxRisk: 0.4 }, medium).map((r) => r.code)).toEqual(["risk_too_high"]);
    expect(callerCheckReasons(cert, { maxRisk: 0.5 }, medium)).toEqual([]);
    expect(callerCheckReasons(cert, { maxBand: "low" })).toEqual([]);
  });
});
