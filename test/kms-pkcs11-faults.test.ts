import { afterAll, describe, expect, it } from "vitest";
import { createPkcs11KeyManager, type Pkcs11Options } from "@kakunin/origin/kms/pkcs11";
import { loadGraphene, setupSoftHsm } from "./support/softhsm.ts";

// SoftHSM reads SOFTHSM2_CONF once per process: this file gets its own token.
const hsm = await setupSoftHsm({ tokenLabel: "kakunin-faults" });

function options(): Pkcs11Options {
  if (!hsm) throw new Error("SoftHSM2 not set up");
  return { modulePath: hsm.modulePath, tokenLabel: hsm.tokenLabel, pin: hsm.pin, poolSize: 2 };
}

/** A session of our own on the token, through the already-initialised library (same process). */
function foreignSession() {
  const g = loadGraphene();
  const mod = g.Module.load(options().modulePath);
  try {
    mod.initialize();
  } catch {
    // Already initialised by the manager: the library is per process.
  }
  const slot = [...mod.getSlots(true)].find((s) => s.getToken().label === options().tokenLabel);
  if (!slot) throw new Error("token not found");
  return slot.open(g.SessionFlag.SERIAL_SESSION | g.SessionFlag.RW_SESSION);
}

describe.skipIf(hsm === null)("pkcs11 KeyManager when the token's login is lost", () => {
  afterAll(async () => {
    await hsm?.cleanup();
  });

  it("someone logs the token out (C_Logout is per token): signing recovers without a restart", async () => {
    const km = createPkcs11KeyManager(options());
    try {
      const created = await km.createKey("kakunin-agent-login");
      if (!created.ok) throw new Error(created.error.message);
      const data = new Uint8Array([1, 2, 3]);
      expect((await km.sign(created.value.ref, data)).ok).toBe(true);
      const s = foreignSession();
      s.logout();
      s.close();
      // The first call may fail (503 at the API, the key is not reported missing); the next works.
      const first = await km.sign(created.value.ref, data);
      if (!first.ok) expect(first.error.code).toBe("unavailable");
      expect((await km.sign(created.value.ref, data)).ok).toBe(true);
    } finally {
      await km.close();
    }
  });

  it("with the login lost, listKeys and scheduleDeletion never answer as if the private keys were gone", async () => {
    const km = createPkcs11KeyManager(options());
    const other = createPkcs11KeyManager(options()); // shares the process-wide login
    try {
      const created = await km.createKey("kakunin-agent-listed");
      if (!created.ok) throw new Error(created.error.message);
      expect((await other.listKeys()).ok).toBe(true);

      let s = foreignSession();
      s.logout();
      s.close();
      // An empty list here made tidy mark intents 'abandoned' whose keys exist.
      const listed = await km.listKeys();
      if (listed.ok) expect(listed.value.map((k) => k.ref)).toContain(created.value.ref);
      else expect(listed.error.code).toBe("unavailable");
      const again = await km.listKeys();
      expect(again.ok && again.value.map((k) => k.ref)).toContain(created.value.ref);

      s = foreignSession();
      s.logout();
      s.close();
      // The other manager's registry entry still says "logged in": it must log in again too.
      const deleted = await other.scheduleDeletion(created.value.ref, { pendingWindowDays: 7 });
      if (!deleted.ok) expect(deleted.error.code).toBe("unavailable");
      else expect(deleted.value.alreadyGone).toBe(false);
      const retried = deleted.ok ? deleted : await other.scheduleDeletion(created.value.ref, { pendingWindowDays: 7 });
      expect(retried.ok).toBe(true);
      // Both halves are gone: the private key was not left behind, invisible, on the token.
      const after = await km.listKeys();
      expect(after.ok && after.value.map((k) => k.ref)).not.toContain(created.value.ref);
      expect(await km.sign(created.value.ref, new Uint8Array([1]))).toMatchObject({ ok: false, error: { code: "not_found" } });
    } finally {
      await km.close();
      await other.close();
    }
  });
});
