import { randomBytes, webcrypto } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPkcs11KeyManager, type Pkcs11Options } from "@kakunin/origin/kms/pkcs11";
import { formatPkcs11Uri, parsePkcs11Uri } from "@kakunin/origin/kms/pkcs11-uri";
import type { KeyManager } from "@kakunin/origin/kms/types";
import { loadGraphene, setupSoftHsm, type Graphene } from "./support/softhsm.ts";

// A label needing percent-encoding (space, ';', '%', non-ASCII) exercises the RFC 7512 URI path.
const hsm = await setupSoftHsm({ tokenLabel: "kakunin e2e;%é" });

const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

function options(overrides: Partial<Pkcs11Options> = {}): Pkcs11Options {
  if (!hsm) throw new Error("SoftHSM2 not set up");
  return { modulePath: hsm.modulePath, tokenLabel: hsm.tokenLabel, pin: hsm.pin, ...overrides };
}

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

const importSpki = (spki: Uint8Array) => webcrypto.subtle.importKey("spki", spki, RSA, true, ["verify"]);

async function verifies(spki: Uint8Array, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  return webcrypto.subtle.verify(RSA, await importSpki(spki), signature, data);
}

/** A ref on our token whose CKA_ID no object has. */
function refWithUnknownId(ref: string): string {
  return ref.replace(/id=[^;]+/, `id=${[...randomBytes(16)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("")}`);
}

type PrivateKeyObject = InstanceType<Graphene["PrivateKey"]>;

describe.skipIf(hsm === null)("pkcs11 KeyManager on SoftHSM2", () => {
  afterAll(async () => {
    await hsm?.cleanup();
  });

  // First, with no manager logged in, so a wrong PIN really reaches C_Login.
  describe("configuration errors", () => {
    it("wrong PIN → not_configured, and the manager does not retry the login", async () => {
      const m = createPkcs11KeyManager(options({ pin: "not-the-pin" }));
      const first = await m.createKey("x");
      expect(first).toMatchObject({ ok: false, error: { code: "not_configured" } });
      expect(first.ok ? "" : first.error.message).toContain("CKR_PIN_INCORRECT");
      // Same answer, without a second C_Login that could count against a real HSM's retry limit.
      const again = await m.getPublicKey(formatPkcs11Uri({ token: options().tokenLabel, id: Uint8Array.of(1) }));
      expect(again).toEqual(first);
      await m.close();
    });

    it("nonexistent module path → not_configured", async () => {
      const m = createPkcs11KeyManager(options({ modulePath: "/nonexistent/libpkcs11.so" }));
      expect(await m.createKey("x")).toMatchObject({ ok: false, error: { code: "not_configured" } });
      await m.close();
    });

    it("a file that is not a PKCS#11 module → not_configured", async () => {
      const m = createPkcs11KeyManager(options({ modulePath: "/etc/hostname" }));
      expect(await m.createKey("x")).toMatchObject({ ok: false, error: { code: "not_configured" } });
      await m.close();
    });

    it("unknown token label → not_configured", async () => {
      const m = createPkcs11KeyManager(options({ tokenLabel: "no-such-token" }));
      expect(await m.createKey("x")).toMatchObject({ ok: false, error: { code: "not_configured" } });
      await m.close();
    });
  });

  describe("with an open manager", () => {
    let km: KeyManager;
    beforeAll(() => {
      km = createPkcs11KeyManager(options());
    });
    afterAll(async () => {
      await km.close();
    });

    it("createKey returns an RFC 7512 URI and an RSA-2048 e=65537 SPKI that WebCrypto imports", async () => {
      const label = "agent 42;ü";
      const created = unwrap(await km.createKey(label));
      expect(created.ref).toMatch(/^pkcs11:token=kakunin%20e2e%3b%25%c3%a9;id=(%[0-9a-f]{2}){16};object=agent%2042%3b%c3%bc$/);
      expect(parsePkcs11Uri(created.ref)).toMatchObject({ token: options().tokenLabel, object: label });

      const key = await importSpki(created.publicKeySpki);
      const alg = key.algorithm as webcrypto.RsaHashedKeyAlgorithm;
      expect(alg.modulusLength).toBe(2048);
      expect([...alg.publicExponent]).toEqual([1, 0, 1]);
      expect(unwrap(await km.getPublicKey(created.ref))).toEqual(created.publicKeySpki);
    });

    it("sign produces an RSASSA-PKCS1-v1_5 SHA-256 signature WebCrypto verifies", async () => {
      const created = unwrap(await km.createKey("signer"));
      const data = new TextEncoder().encode("tbsCertificate stand-in");
      const signature = unwrap(await km.sign(created.ref, data));
      expect(signature.length).toBe(256);
      expect(await verifies(created.publicKeySpki, signature, data)).toBe(true);
      expect(await verifies(created.publicKeySpki, signature, new TextEncoder().encode("other"))).toBe(false);
    });

    it("200 concurrent signs over two keys all succeed and verify (no CKR_OPERATION_ACTIVE)", async () => {
      const keys = [unwrap(await km.createKey("burst-a")), unwrap(await km.createKey("burst-b"))];
      const jobs = Array.from({ length: 200 }, (_, i) => ({ key: keys[i % 2]!, data: randomBytes(64 + i) }));
      const started = performance.now();
      const results = await Promise.all(jobs.map((j) => km.sign(j.key.ref, j.data)));
      const seconds = (performance.now() - started) / 1000;
      console.log(`pkcs11: 200 concurrent signs in ${(seconds * 1000).toFixed(0)} ms = ${(200 / seconds).toFixed(0)} signs/s`);
      const failures = results.filter((r) => !r.ok);
      expect(failures).toEqual([]);
      const checks = await Promise.all(jobs.map((j, i) => verifies(j.key.publicKeySpki, unwrap(results[i]!), j.data)));
      expect(checks.every(Boolean)).toBe(true);
    });

    it("an id that no object has → not_found for getPublicKey and sign", async () => {
      const created = unwrap(await km.createKey("exists"));
      const missing = refWithUnknownId(created.ref);
      expect(await km.getPublicKey(missing)).toMatchObject({ ok: false, error: { code: "not_found" } });
      expect(await km.sign(missing, new Uint8Array([1]))).toMatchObject({ ok: false, error: { code: "not_found" } });
    });

    it("a key deleted behind the manager's back → not_found (cached handle is re-checked)", async () => {
      const created = unwrap(await km.createKey("doomed"));
      const data = new Uint8Array([1, 2, 3]);
      unwrap(await km.sign(created.ref, data)); // the handle is now cached
      const uri = parsePkcs11Uri(created.ref);
      if (!uri) throw new Error("unparseable ref");
      // Same process, so the library is already initialised and logged in by `km`: no finalize here.
      const g = loadGraphene();
      const mod = g.Module.load(options().modulePath);
      mod.initialize();
      const slot = [...mod.getSlots(true)].find((s) => s.getToken().label === options().tokenLabel);
      if (!slot) throw new Error("token not found");
      const session = slot.open(g.SessionFlag.SERIAL_SESSION | g.SessionFlag.RW_SESSION);
      expect(session.destroy({ class: g.ObjectClass.PRIVATE_KEY, id: Buffer.from(uri.id) })).toBe(1);
      session.close();
      expect(await km.sign(created.ref, data)).toMatchObject({ ok: false, error: { code: "not_found" } });
      expect(unwrap(await km.getPublicKey(created.ref))).toEqual(created.publicKeySpki);
    });

    it("refs that are malformed or name another token → not_found", async () => {
      for (const ref of ["local:key/1", "pkcs11:token=other;id=%01", "pkcs11:id=%01", "pkcs11:token=x;id=%zz"]) {
        expect(await km.sign(ref, new Uint8Array([1]))).toMatchObject({ ok: false, error: { code: "not_found" } });
      }
    });

    it("a second manager shares the login; a different PIN is refused; closing one leaves the other working", async () => {
      const created = unwrap(await km.createKey("shared"));
      const other = createPkcs11KeyManager(options());
      const data = new Uint8Array([7, 7, 7]);
      expect(await verifies(created.publicKeySpki, unwrap(await other.sign(created.ref, data)), data)).toBe(true);
      const wrongPin = createPkcs11KeyManager(options({ pin: "0000" }));
      expect(await wrongPin.sign(created.ref, data)).toMatchObject({ ok: false, error: { code: "not_configured" } });
      await wrongPin.close();
      await other.close(); // must neither log out nor finalize under `km`
      expect(unwrap(await km.sign(created.ref, data)).length).toBe(256);
    });
  });

  describe("lifecycle", () => {
    it("close() is idempotent; calls after close are unavailable", async () => {
      const m = createPkcs11KeyManager(options());
      const created = unwrap(await m.createKey("short-lived"));
      await Promise.all([m.close(), m.close()]);
      await m.close();
      expect(await m.sign(created.ref, new Uint8Array([1]))).toMatchObject({ ok: false, error: { code: "unavailable" } });
    });

    it("close() during a burst lets in-flight signs finish and fails queued ones cleanly", async () => {
      const m = createPkcs11KeyManager(options());
      const created = unwrap(await m.createKey("busy"));
      const pending = Array.from({ length: 50 }, () => m.sign(created.ref, new Uint8Array([9])));
      await m.close();
      const results = await Promise.all(pending);
      for (const r of results) {
        if (!r.ok) expect(r.error.code).toBe("unavailable");
      }
      expect(results.some((r) => r.ok)).toBe(true);
    });

    it("keys persist: non-extractable on the token, and a new manager signs with the stored ref", async () => {
      const first = createPkcs11KeyManager(options());
      const created = unwrap(await first.createKey("persistent"));
      await first.close();

      // Inspect the token directly, bypassing the code under test.
      const g = loadGraphene();
      const uri = parsePkcs11Uri(created.ref);
      if (!uri) throw new Error("unparseable ref");
      const mod = g.Module.load(options().modulePath);
      mod.initialize();
      try {
        const slot = [...mod.getSlots(true)].find((s) => s.getToken().label === options().tokenLabel);
        if (!slot) throw new Error("token not found");
        const session = slot.open(g.SessionFlag.SERIAL_SESSION);
        session.login(options().pin);
        const found = session.find({ class: g.ObjectClass.PRIVATE_KEY, id: Buffer.from(uri.id) });
        expect(found.length).toBe(1);
        const key: PrivateKeyObject = found.items(0).toType<PrivateKeyObject>();
        expect(key.token).toBe(true);
        expect(key.sensitive).toBe(true);
        expect(key.extractable).toBe(false);
        expect(key.alwaysSensitive).toBe(true);
        expect(key.neverExtractable).toBe(true);
        expect(key.sign).toBe(true);
        expect(key.label).toBe("persistent");
        const CKA_PRIVATE_EXPONENT = 0x123;
        expect(() => found.items(0).getAttribute(CKA_PRIVATE_EXPONENT)).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
        const pub = session.find({ class: g.ObjectClass.PUBLIC_KEY, id: Buffer.from(uri.id) });
        expect(pub.length).toBe(1);
        session.logout();
        session.close();
      } finally {
        mod.finalize();
      }

      const second = createPkcs11KeyManager(options());
      const data = new TextEncoder().encode("after restart");
      const signature = unwrap(await second.sign(created.ref, data));
      expect(await verifies(created.publicKeySpki, signature, data)).toBe(true);
      expect(unwrap(await second.getPublicKey(created.ref))).toEqual(created.publicKeySpki);
      await second.close();
    });
  });
});
