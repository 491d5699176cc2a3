import { webcrypto } from "node:crypto";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { kakunin, type KakuninEnv } from "../src/hono.ts";
import { cryptoKeySigner, signRequest } from "../src/index.ts";
import { MAX_FIELD_CHARS, normaliseFieldValue } from "../src/signature-base.ts";
import { closedPort } from "./support.ts";

/**
 * The gateway middleware against hostile requests, with no system behind it: every refusal here
 * happens before the edge is asked (the edge URL is a closed port, so anything that got past the
 * signature inspection would answer 503 edge-unavailable instead).
 */
const SERIAL = "4d2f0c9a1b3e5f7081928374a5b6c7d8";
const keys = (await webcrypto.subtle.generateKey(
  { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"],
)) as CryptoKeyPair;
const signer = cryptoKeySigner(keys.privateKey);
const edgeUrl = `http://127.0.0.1:${await closedPort()}`;

function gateway(authority: string | string[], maxBodyBytes?: number): Hono<KakuninEnv> {
  const app = new Hono<KakuninEnv>();
  app.use("*", kakunin({ authority, verifier: { edgeUrl, timeoutMs: 500 }, ...(maxBodyBytes !== undefined && { maxBodyBytes }) }));
  app.all("*", (c) => c.text("ok"));
  return app;
}
const sign = (url: string, body?: string) =>
  signRequest(new Request(url, { method: body === undefined ? "GET" : "POST", body }), { serial: SERIAL, signer });
const problem = async (res: Response) => ({ status: res.status, ...((await res.json()) as { type: string; detail: string }) });

describe("@authority: a request signed for gateway X is refused at gateway Y", () => {
  it("the same signed request passes inspection at X and is refused at Y, even carrying X's Host", async () => {
    const req = await sign("http://gateway-x.test/api/orders", "{}");
    const atX = await problem(await gateway("gateway-x.test").request(req.clone()));
    expect(atX).toMatchObject({ status: 503, type: "urn:kakunin:problem:edge-unavailable" });
    const atY = await problem(await gateway(["gateway-y.test", "gateway-y.test:8443"]).request(req.clone()));
    expect(atY).toMatchObject({ status: 401, type: "urn:kakunin:problem:signature-invalid" });
    expect(atY.detail).toContain("gateway-x.test");
  });

  it("a signature that does not cover @authority is refused", async () => {
    const req = await sign("http://gateway-x.test/api/orders", "{}");
    const headers = new Headers(req.headers);
    headers.set("signature-input", headers.get("signature-input")!.replace('"@authority" ', ""));
    const res = await problem(await gateway("gateway-x.test").request(new Request(req.url, { method: "POST", headers, body: "{}" })));
    expect(res).toMatchObject({ status: 401, type: "urn:kakunin:problem:signature-invalid" });
    expect(res.detail).toContain('"@authority"');
  });

  it("proof of possession without a configured authority is a programming error, caught at startup", () => {
    expect(() => kakunin({ verifier: { edgeUrl } })).toThrow(/authority/);
    expect(() => kakunin({ verifier: { edgeUrl }, proofOfPossession: false })).not.toThrow();
  });
});

describe("hostile headers cost the gateway nothing", () => {
  /** A request whose signature claims to cover `x-pad`, a header of `size` spaces. */
  async function padded(size: number, where: "covered" | "signature-input"): Promise<Request> {
    const req = await sign("http://gateway-x.test/api/orders", "{}");
    const headers = new Headers(req.headers);
    // Spaces inside the value: fetch's Headers trims them at either end.
    const pad = `a${" ".repeat(size)}b`;
    if (where === "covered") {
      headers.set("signature-input", headers.get("signature-input")!.replace('("@method"', '("x-pad" "@method"'));
      headers.set("x-pad", pad);
    } else {
      headers.set("signature-input", `${headers.get("signature-input")}, pad=("${"x".repeat(size)}")`);
    }
    return new Request(req.url, { method: "POST", headers, body: "{}" });
  }

  it("a 1 MiB covered header, or a 1 MiB Signature-Input, is refused in < 10 ms", async () => {
    const app = gateway("gateway-x.test");
    await app.request(await padded(16, "covered")); // warm-up: JIT and module loading are not the bound
    for (const where of ["covered", "signature-input"] as const) {
      // The fastest of five: a loaded machine only ever adds time (a CI run beside other work
      // measured 12 ms once), and a quadratic rewrite would be slow on every one of them.
      let ms = Infinity;
      for (let i = 0; i < 5; i++) {
        const req = await padded(1 << 20, where);
        const t0 = performance.now();
        const res = await app.request(req);
        ms = Math.min(ms, performance.now() - t0);
        expect(res.status, where).toBe(401);
        expect((await res.json()).detail as string).toContain(String(MAX_FIELD_CHARS));
      }
      // The bound, measured here on purpose (a test, not a benchmark): the quadratic
      // rewrite took ~150 ms for 16 Ki spaces, and would take minutes for 1 MiB.
      expect(ms, `${where}: ${ms.toFixed(2)} ms`).toBeLessThan(10);
    }
  });

  it("whitespace normalisation is linear and keeps RFC 9421 §2.1 semantics", () => {
    const old = (v: string) => v.replace(/\s*\r?\n\s*/g, " ").trim();
    for (const v of ["  a  ", "a\r\n b", "a \n\n  b ", "a,\tb", "\n a \n", "x\ny\r\nz", "", " "]) expect(normaliseFieldValue(v), JSON.stringify(v)).toBe(old(v));
    const t0 = performance.now();
    normaliseFieldValue(`a${" ".repeat(1 << 20)}\n${" ".repeat(1 << 20)}b`);
    expect(performance.now() - t0).toBeLessThan(100);
  });
});

describe("bodies without Content-Length are capped too", () => {
  it("a chunked body that never ends is refused with 413 once past maxBodyBytes", async () => {
    const req = await sign("http://gateway-x.test/api/orders", "{}");
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const headers = new Headers(req.headers);
    headers.delete("content-length");
    const chunked = new Request(req.url, { method: "POST", headers, body: endless, duplex: "half" } as RequestInit);
    const res = await problem(await gateway("gateway-x.test", 256 * 1024).request(chunked));
    expect(res).toMatchObject({ status: 413, type: "urn:kakunin:problem:payload-too-large" });
    expect(sent).toBeLessThanOrEqual(512 * 1024);
  });
});
