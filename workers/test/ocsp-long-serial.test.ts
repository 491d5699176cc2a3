import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { OCSP_TRY_LATER, OCSP_UNAUTHORIZED } from "@kakunin/shared";
import { certRec, publish } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

/** DER length octets (definite form). */
function len(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v >>= 8) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}
const tlv = (tag: number, ...content: number[][]): number[] => {
  const body = content.flat();
  return [tag, ...len(body.length), ...body];
};

/** An OCSPRequest for one SHA-1 CertID whose serialNumber INTEGER has these content octets. */
function ocspRequest(serial: number[]): Uint8Array {
  const sha1 = tlv(0x30, tlv(0x06, [0x2b, 0x0e, 0x03, 0x02, 0x1a]), [0x05, 0x00]);
  const certId = tlv(0x30, sha1, tlv(0x04, new Array(20).fill(0x11)), tlv(0x04, new Array(20).fill(0x22)), tlv(0x02, serial));
  return new Uint8Array(tlv(0x30, tlv(0x30, tlv(0x30, tlv(0x30, certId)))));
}

const post = (body: Uint8Array) =>
  exports.default.fetch("http://edge/v1/ocsp", { method: "POST", headers: { "content-type": "application/ocsp-request" }, body });
const get = (body: Uint8Array) => exports.default.fetch(`http://edge/v1/ocsp/${encodeURIComponent(btoa(String.fromCharCode(...body)))}`);

describe("OCSP requests for serials no certificate can have", () => {
  it("a serial over 20 octets (RFC 5280 §4.1.2.2) is unauthorized, never a 500 from the status store", async () => {
    // 300 octets: `cert:<600 hex digits>` is past KV's 512-byte key limit, and the KV read threw.
    for (const octets of [21, 300, 2000]) {
      const serial = [0x4a, ...new Array(octets - 1).fill(0x5b)];
      for (const r of [await post(ocspRequest(serial)), await get(ocspRequest(serial))]) {
        expect(r.status).toBe(200);
        expect(r.headers.get("content-type")).toBe("application/ocsp-response");
        expect(new Uint8Array(await r.arrayBuffer())).toEqual(OCSP_UNAUTHORIZED);
      }
    }
  });

  it("sign-padding zero octets in front of a real serial still find its record (the serial is read as a number)", async () => {
    const serial = [0x4a, ...new Array(15).fill(0x5b)];
    // Published without a signed response yet: tryLater, which only a found record answers.
    await publish([certRec({ serial_number: serial.map((b) => b.toString(16).padStart(2, "0")).join(""), ocsp_b64: null })]);
    for (const pad of [[], [0x00], [0x00, 0x00, 0x00, 0x00, 0x00, 0x00]]) {
      const r = await post(ocspRequest([...pad, ...serial]));
      expect(new Uint8Array(await r.arrayBuffer())).toEqual(OCSP_TRY_LATER);
    }
  });
});
