import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { OCSP_TRY_LATER, OCSP_UNAUTHORIZED, parseOcspRequest } from "@kakunin/shared";
import { certRec, nextV, publish } from "./fixtures.ts";
import {
  B_REQUEST_SHA1_B64,
  B_REQUEST_SHA256_B64,
  B_RESPONSE_B64,
  B_SERIAL,
  C_REQUEST_SHA1_B64,
  C_REQUEST_SHA256_B64,
  C_RESPONSE_SHA1_B64,
  C_RESPONSE_SHA256_B64,
  C_SERIAL,
  FIXTURE_SERIAL,
  LONG_B64,
  OTHER_CA_REQUEST_SHA1_B64,
  OTHER_CA_REQUEST_SHA256_B64,
} from "./ocsp-fixtures.ts";

afterEach(async () => {
  await reset();
});

const der = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const bytes = async (r: Response) => new Uint8Array(await r.arrayBuffer());
const post = async (body: Uint8Array) =>
  bytes(await exports.default.fetch("http://edge/v1/ocsp", { method: "POST", headers: { "content-type": "application/ocsp-request" }, body }));
const get = async (body: Uint8Array) => bytes(await exports.default.fetch(`http://edge/v1/ocsp/${encodeURIComponent(btoa(String.fromCharCode(...body)))}`));

const OIDS = {
  sha1: [0x2b, 0x0e, 0x03, 0x02, 0x1a],
  sha256: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
  sha384: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02],
};
const fromHex = (h: string) => h.match(/../g)!.map((x) => Number.parseInt(x, 16));

/** OCSPRequest { TBSRequest { requestList { Request { CertID } } } }, no nonce. */
function request(alg: keyof typeof OIDS, nameHash: string, keyHash: string, serial: string): Uint8Array {
  const enc = (tag: number, body: number[]): number[] => [tag, ...(body.length < 128 ? [body.length] : [0x81, body.length]), ...body];
  const algId = enc(0x30, [...enc(0x06, OIDS[alg]), 0x05, 0x00]);
  const certId = enc(0x30, [...algId, ...enc(0x04, fromHex(nameHash)), ...enc(0x04, fromHex(keyHash)), ...enc(0x02, fromHex(serial))]);
  return new Uint8Array(enc(0x30, enc(0x30, enc(0x30, enc(0x30, certId)))));
}

function certIdOf(b64: string) {
  const parsed = parseOcspRequest(der(b64));
  if (!parsed.ok) throw new Error("fixture request does not parse");
  return parsed.value.certIds[0]!;
}

/** The same hex with its first byte changed. */
const flip = (h: string) => (Number.parseInt(h.slice(0, 2), 16) ^ 0xff).toString(16).padStart(2, "0") + h.slice(2);

describe("OCSP answers only a CertID of the pre-signed response (issuer name hash, issuer key hash, serial)", () => {
  it("the issuer's own CertID, SHA-1 or SHA-256, by POST or GET, gets the pre-signed bytes", async () => {
    await publish([certRec({ serial_number: B_SERIAL, ocsp_b64: B_RESPONSE_B64 })]);
    for (const req of [B_REQUEST_SHA1_B64, B_REQUEST_SHA256_B64]) {
      expect(await post(der(req))).toEqual(der(B_RESPONSE_B64));
      expect(await get(der(req))).toEqual(der(B_RESPONSE_B64));
    }
  });

  it("one response per CertID hash (ocsp_b64 SHA-1, ocsp_sha256_b64 SHA-256): each request gets the one in its own hash, which is all Go's and Python's clients accept", async () => {
    await publish([certRec({ serial_number: C_SERIAL, ocsp_b64: C_RESPONSE_SHA1_B64, ocsp_sha256_b64: C_RESPONSE_SHA256_B64 })]);
    for (const [req, res] of [
      [C_REQUEST_SHA1_B64, C_RESPONSE_SHA1_B64],
      [C_REQUEST_SHA256_B64, C_RESPONSE_SHA256_B64],
    ] as const) {
      expect(await post(der(req))).toEqual(der(res));
      expect(await get(der(req))).toEqual(der(res));
    }
    // A newer record replaces both prepared responses in this isolate at once (no cache bound to wait out).
    await publish([certRec({ serial_number: C_SERIAL, v: nextV(), ocsp_b64: null, ocsp_sha256_b64: null })]);
    for (const req of [C_REQUEST_SHA1_B64, C_REQUEST_SHA256_B64]) expect(await post(der(req))).toEqual(OCSP_TRY_LATER);
  });

  it("a SHA-256 request is not answered with the SHA-1 response (its CertID would not be in it)", async () => {
    await publish([certRec({ serial_number: C_SERIAL, ocsp_b64: C_RESPONSE_SHA1_B64, ocsp_sha256_b64: null })]);
    expect(await post(der(C_REQUEST_SHA1_B64))).toEqual(der(C_RESPONSE_SHA1_B64));
    expect(await post(der(C_REQUEST_SHA256_B64))).toEqual(OCSP_UNAUTHORIZED);
  });

  it("the same serial asked under another CA (openssl ocsp -issuer <other CA>) is unauthorized, not another CA's response", async () => {
    await publish([certRec({ serial_number: B_SERIAL, ocsp_b64: B_RESPONSE_B64 })]);
    for (const req of [OTHER_CA_REQUEST_SHA1_B64, OTHER_CA_REQUEST_SHA256_B64]) {
      expect(certIdOf(req).serial).toBe(B_SERIAL);
      expect(await post(der(req))).toEqual(OCSP_UNAUTHORIZED);
      expect(await get(der(req))).toEqual(OCSP_UNAUTHORIZED);
    }
  });

  it("a CertID that differs only in the issuer name hash, or only in the key hash, is unauthorized", async () => {
    await publish([certRec({ serial_number: B_SERIAL, ocsp_b64: B_RESPONSE_B64 })]);
    for (const fixture of [B_REQUEST_SHA1_B64, B_REQUEST_SHA256_B64]) {
      const id = certIdOf(fixture);
      const alg = id.hashAlgorithm === "sha1" ? "sha1" : "sha256";
      // The hand-made request with the fixture's own values is answered: only the change matters.
      expect(await post(request(alg, id.issuerNameHash, id.issuerKeyHash, id.serial))).toEqual(der(B_RESPONSE_B64));
      expect(await post(request(alg, flip(id.issuerNameHash), id.issuerKeyHash, id.serial))).toEqual(OCSP_UNAUTHORIZED);
      expect(await post(request(alg, id.issuerNameHash, flip(id.issuerKeyHash), id.serial))).toEqual(OCSP_UNAUTHORIZED);
    }
  });

  it("a CertID hashed with an algorithm the response does not carry is unauthorized (no response matches it)", async () => {
    // This OpenSSL response has only a SHA-1 CertID; Kakunin publishes SHA-1 and SHA-256 ones, never SHA-384.
    await publish([certRec({ serial_number: FIXTURE_SERIAL, ocsp_b64: LONG_B64 })]);
    const { issuerNameHash, issuerKeyHash } = certIdOf(B_REQUEST_SHA256_B64);
    expect(await post(request("sha256", issuerNameHash, issuerKeyHash, FIXTURE_SERIAL))).toEqual(OCSP_UNAUTHORIZED);
    expect(await post(request("sha384", `${issuerNameHash}${"00".repeat(16)}`, `${issuerKeyHash}${"00".repeat(16)}`, FIXTURE_SERIAL))).toEqual(
      OCSP_UNAUTHORIZED,
    );
  });
});
