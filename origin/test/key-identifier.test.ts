import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { keyIdentifier } from "../src/ca/sign-certificate.ts";
import { subjectPublicKeyBits } from "../src/ca/spki.ts";
import { x509 } from "../src/ca/x509.ts";

const spkiOf = (type: "rsa" | "ec") =>
  new Uint8Array(
    (type === "rsa" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" })).publicKey.export({
      type: "spki",
      format: "der",
    }),
  );

describe("key identifiers read from the SPKI in place", () => {
  it.each(["rsa", "ec"] as const)("equal @peculiar/x509's RFC 5280 method 1 for %s keys", async (type) => {
    const spki = spkiOf(type);
    const expected = Buffer.from(await new x509.PublicKey(spki).getKeyIdentifier()).toString("hex");
    expect(await keyIdentifier(spki)).toBe(expected);
  });

  it("rejects what is not a SubjectPublicKeyInfo (wrong tag, truncated, trailing data)", () => {
    const spki = spkiOf("rsa");
    expect(() => subjectPublicKeyBits(new Uint8Array([0x04, ...spki.subarray(1)]))).toThrow(/invalid SubjectPublicKeyInfo/);
    expect(() => subjectPublicKeyBits(spki.subarray(0, spki.length - 1))).toThrow(/invalid SubjectPublicKeyInfo/);
    const extra = new Uint8Array([...spki, 0x00]);
    extra[3] = extra[3]! + 1; // the outer length now covers one byte after the BIT STRING
    expect(() => subjectPublicKeyBits(extra)).toThrow(/invalid SubjectPublicKeyInfo/);
  });
});
