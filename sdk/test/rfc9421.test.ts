import { createHash, createPublicKey, verify as nodeVerify, webcrypto } from "node:crypto";
import { describe, expect, it } from "vitest";
import { contentDigest, cryptoKeySigner, signRequest, type Signer } from "../src/index.ts";
import { inspectSignature, signatureMatches } from "../src/possession.ts";
import { REQUIRED_COMPONENTS, signatureBase, type MessageView } from "../src/signature-base.ts";
import { parseDictionary, serializeInnerList, isInnerList } from "../src/structured-fields.ts";

const SERIAL = "4d2f0c9a1b3e5f7081928374a5b6c7d8";
const CREATED = new Date("2021-04-20T02:07:55Z");

async function rsaKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  ) as Promise<CryptoKeyPair>;
}

/** Records what it was asked to sign: the signature base, byte for byte. */
function capturing(inner: Signer): { signer: Signer; bases: string[] } {
  const bases: string[] = [];
  return { bases, signer: { sign: async (data, ctx) => { bases.push(new TextDecoder().decode(data)); return inner.sign(data, ctx); } } };
}

describe("RFC 9421 signatures made by signRequest", () => {
  it("signature base for a fixed request matches the hand-written RFC 9421 §2.5 form", async () => {
    const keys = await rsaKeys();
    const { signer, bases } = capturing(cryptoKeySigner(keys.privateKey));
    const req = new Request("https://gateway.example/orders/place", { method: "POST", headers: { "content-type": "application/json" }, body: '{"hello": "world"}' });
    const signed = await signRequest(req, { serial: SERIAL.toUpperCase().match(/../g)!.join(":"), signer, created: CREATED, nonce: "n0nce" });

    const params = `("@method" "@authority" "@path" "date" "content-digest" "kakunin-agent-serial");created=1618884475;keyid="${SERIAL}";alg="rsa-v1_5-sha256";nonce="n0nce"`;
    // RFC 9530 §B.1 digests this very body: the value below is the RFC's own.
    const expected = [
      `"@method": POST`,
      `"@authority": gateway.example`,
      `"@path": /orders/place`,
      `"date": Tue, 20 Apr 2021 02:07:55 GMT`,
      `"content-digest": sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:`,
      `"kakunin-agent-serial": ${SERIAL}`,
      `"@signature-params": ${params}`,
    ].join("\n");
    expect(bases).toEqual([expected]);
    expect(signed.headers.get("signature-input")).toBe(`sig1=${params}`);
    expect(signed.headers.get("date")).toBe("Tue, 20 Apr 2021 02:07:55 GMT");
    expect(signed.headers.get("kakunin-agent-serial")).toBe(SERIAL);
    expect(signed.headers.get("content-type")).toBe("application/json");
    expect(await signed.text()).toBe('{"hello": "world"}');
    expect(signed.method).toBe("POST");
  });

  it("a cryptoKeySigner signature verifies with node's crypto.verify over that base (independent check)", async () => {
    const keys = await rsaKeys();
    const { signer, bases } = capturing(cryptoKeySigner(keys.privateKey));
    const signed = await signRequest(new Request("https://gateway.example/crm/customers/42?fields=name", { method: "GET" }), { serial: SERIAL, signer });
    const sig = /^sig1=:([A-Za-z0-9+/=]+):$/.exec(signed.headers.get("signature") ?? "")?.[1];
    expect(sig).toBeDefined();
    const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey));
    const publicKey = createPublicKey({ key: spki, format: "der", type: "spki" });
    const base = bases[0]!;
    expect(nodeVerify("sha256", Buffer.from(base), publicKey, Buffer.from(sig!, "base64"))).toBe(true);
    // A single changed byte of the base must not verify: the check above can fail.
    expect(nodeVerify("sha256", Buffer.from(base.replace("/crm/", "/crM/")), publicKey, Buffer.from(sig!, "base64"))).toBe(false);
    // A query is covered whenever there is one; a bodiless request digests the empty body.
    expect(base).toContain(`\n"@query": ?fields=name\n`);
    expect(base).toContain(`"@path": /crm/customers/42\n`);
    const empty = `sha-256=:${createHash("sha256").update("").digest("base64")}:`;
    expect(signed.headers.get("content-digest")).toBe(empty);
    expect(await contentDigest(new Uint8Array(0))).toBe(empty);
    expect(signed.headers.get("signature-input")).toMatch(/^sig1=\("@method" "@authority" "@path" "date" "content-digest" "kakunin-agent-serial" "@query"\);created=\d+;keyid="[0-9a-f]+";alg="rsa-v1_5-sha256";nonce="[A-Za-z0-9_-]{22}"$/);
  });

  it("each signed request gets a fresh nonce", async () => {
    const keys = await rsaKeys();
    const signer = cryptoKeySigner(keys.privateKey);
    const nonces = await Promise.all([1, 2, 3].map(async () => {
      const s = await signRequest(new Request("https://gateway.example/x"), { serial: SERIAL, signer });
      return /nonce="([^"]+)"/.exec(s.headers.get("signature-input") ?? "")?.[1];
    }));
    expect(new Set(nonces).size).toBe(3);
  });

  it("refuses to sign for a malformed serial, a bad label or a non-ASCII nonce", async () => {
    const keys = await rsaKeys();
    const signer = cryptoKeySigner(keys.privateKey);
    const req = () => new Request("https://gateway.example/x");
    await expect(signRequest(req(), { serial: "not-hex", signer })).rejects.toThrow(/serial/);
    await expect(signRequest(req(), { serial: SERIAL, signer, label: "Sig 1" })).rejects.toThrow(/label/);
    await expect(signRequest(req(), { serial: SERIAL, signer, nonce: "nönce" })).rejects.toThrow(/ASCII/);
  });
});

describe("structured fields (RFC 8941) as Signature-Input uses them", () => {
  it("parses and re-serialises the RFC 9421 §4.1 example byte for byte", () => {
    const field = `sig1=("@method" "@target-uri" "@authority" "content-digest" "cache-control");created=1618884475;keyid="test-key-rsa-pss"`;
    const sig1 = parseDictionary(field)?.get("sig1");
    expect(sig1 && isInnerList(sig1)).toBe(true);
    if (!sig1 || !isInnerList(sig1)) return;
    expect(sig1.items.map((i) => i.value)).toEqual(["@method", "@target-uri", "@authority", "content-digest", "cache-control"]);
    expect(`sig1=${serializeInnerList(sig1)}`).toBe(field);
  });

  it("reads several labels, byte sequences, escapes; refuses malformed input", () => {
    const d = parseDictionary(`sig1=:AAEC:, proxy=:/w==:;x="a\\"b"`);
    expect(d?.get("sig1")).toEqual({ value: new Uint8Array([0, 1, 2]), params: [] });
    expect(d?.get("proxy")).toEqual({ value: new Uint8Array([255]), params: [["x", 'a"b']] });
    for (const bad of [`sig1=(“@method”)`, `sig1=("@method"`, `Sig1=:AA==:`, `sig1=:AA==:,`, `sig1="unterminated`, `sig1=("a""b")`, `sig1=:A:`]) {
      expect(parseDictionary(bad), bad).toBeUndefined();
    }
  });
});

describe("signature parameters have the types RFC 9421 §2.3 gives them", () => {
  const policy = { label: "sig1", authorities: new Set(["gw.test"]), maxSkewMs: 60_000, now: Date.now };
  const body = async () => ({ ok: true as const, bytes: new Uint8Array(0) });

  /** A request signed by hand with `extra` parameters appended to the ones signRequest uses. */
  async function signedWith(extra: string): Promise<{ view: MessageView; key: CryptoKey }> {
    const keys = await rsaKeys();
    const now = new Date();
    const headers = new Headers({ date: now.toUTCString(), "content-digest": await contentDigest(new Uint8Array(0)), "kakunin-agent-serial": SERIAL });
    const view: MessageView = { method: "GET", url: new URL("http://gw.test/api/orders"), header: (n) => headers.get(n) ?? undefined };
    const list = `(${REQUIRED_COMPONENTS.map((c) => `"${c}"`).join(" ")})`;
    const params = `${list};created=${Math.floor(now.getTime() / 1000)};keyid="${SERIAL}";alg="rsa-v1_5-sha256";nonce="n-${crypto.randomUUID()}"${extra}`;
    const base = signatureBase(REQUIRED_COMPONENTS, params, view);
    if (!base.ok) throw new Error(base.error);
    const sig = await cryptoKeySigner(keys.privateKey).sign(new TextEncoder().encode(base.value), { serial: SERIAL });
    headers.set("signature-input", `sig1=${params}`);
    headers.set("signature", `sig1=:${Buffer.from(sig).toString("base64")}:`);
    return { view, key: keys.publicKey };
  }

  it("an expiry the verifier cannot read is refused, not ignored (here: long past, as a string)", async () => {
    // Control: the same expiry as an Integer is refused as expired.
    const asInteger = await signedWith(";expires=1");
    expect(await inspectSignature(asInteger.view, SERIAL, body, policy)).toMatchObject({ ok: false, problem: "signature-stale" });
    for (const extra of [';expires="1"', ";expires=?1", ";expires=never", ";expires=:AQ==:", ";expires"]) {
      const { view, key } = await signedWith(extra);
      const inspected = await inspectSignature(view, SERIAL, body, policy);
      // The signature itself is genuine: only the parameter's type is wrong.
      if (inspected.ok) expect(await signatureMatches(key, inspected.sig)).toBe(true);
      expect(inspected, extra).toMatchObject({ ok: false, problem: "signature-invalid" });
    }
  });

  it("a signature with an Integer expiry still in the future passes inspection", async () => {
    const { view, key } = await signedWith(`;expires=${Math.floor(Date.now() / 1000) + 30}`);
    const inspected = await inspectSignature(view, SERIAL, body, policy);
    expect(inspected.ok && (await signatureMatches(key, inspected.sig))).toBe(true);
  });
});
