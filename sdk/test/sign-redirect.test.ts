import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { webcrypto } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cryptoKeySigner, signRequest } from "../src/index.ts";

const SERIAL = "4d2f0c9a1b3e5f7081928374a5b6c7d8";

function listen(handler: (headers: IncomingHttpHeaders) => { status: number; location?: string }): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const a = handler(req.headers);
      res.writeHead(a.status, a.location ? { location: a.location } : {});
      res.end();
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

/**
 * A signed request is bound to its @authority and @path: at a redirect's target it cannot verify,
 * so following one only hands the Signature, Signature-Input, serial, Date and Content-Digest
 * headers (and the body) to another origin, which can replay them at the gateway within its skew
 * window if the gateway never processed the original (a redirect from a front proxy). fetch follows
 * redirects by default and keeps these headers across origins (it drops only Authorization).
 */
describe("signRequest: a signed request does not follow redirects", () => {
  let gateway: Server;
  let elsewhere: Server;
  const seenElsewhere: IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    elsewhere = await listen((h) => {
      seenElsewhere.push(h);
      return { status: 200 };
    });
    gateway = await listen(() => ({ status: 307, location: `${urlOf(elsewhere)}/collect` }));
  });
  afterAll(async () => {
    await Promise.all([gateway, elsewhere].map((s) => new Promise((r) => s.close(r))));
  });

  it("a 307 to another origin comes back to the caller; the other origin receives nothing", async () => {
    const keys = (await webcrypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      false,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const req = new Request(`${urlOf(gateway)}/api/orders`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"amount":5}' });
    const signed = await signRequest(req, { serial: SERIAL, signer: cryptoKeySigner(keys.privateKey) });
    const res = await fetch(signed);
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe(`${urlOf(elsewhere)}/collect`);
    expect(seenElsewhere).toEqual([]);
    expect(signed.redirect).toBe("manual");
  });
});
