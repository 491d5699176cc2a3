import { describe, expect, it } from "vitest";
import { ok } from "@kakunin/shared";
import { withDeadline } from "../src/kms/deadline.ts";
import type { CreateKeyOptions, DeletionOptions, KeyManager } from "../src/kms/types.ts";

/** A backend that records the arguments each call reached it with. */
function recordingBackend(seen: { createKey?: CreateKeyOptions; scheduleDeletion?: DeletionOptions }): KeyManager {
  return {
    kind: "aws-kms",
    createKey: async (_label, opts) => {
      seen.createKey = opts;
      return ok({ ref: "arn:aws:kms:us-east-1:111122223333:key/x", publicKeySpki: new Uint8Array() });
    },
    getPublicKey: async () => ok(new Uint8Array()),
    sign: async () => ok(new Uint8Array()),
    scheduleDeletion: async (_ref, opts) => {
      seen.scheduleDeletion = opts;
      return ok({ deletionDate: null, alreadyGone: false });
    },
    listKeys: async () => ok([]),
    close: async () => {},
  };
}

/**
 * aws-kms and pkcs11 reach the origin only through withDeadline. It once passed createKey the
 * label alone, so the intent id (AWS tag `kakunin:intent`, PKCS#11 CKA_ID) was never written onto
 * the key: a key whose CreateKey answer was lost (a timeout, a reset) could not be found by tidy
 * and stayed in the account, billed and unaccounted for, while its intent row was "abandoned".
 */
describe("withDeadline passes every argument through", () => {
  it("createKey's intent and scheduleDeletion's window reach the backend", async () => {
    const seen: { createKey?: CreateKeyOptions; scheduleDeletion?: DeletionOptions } = {};
    const km = withDeadline(recordingBackend(seen), 5_000);
    expect((await km.createKey("kakunin-agent-a", { intent: "5b0c3a2e-6f57-4d0e-9a43-0d6f3c1e2b7a" })).ok).toBe(true);
    expect(seen.createKey).toEqual({ intent: "5b0c3a2e-6f57-4d0e-9a43-0d6f3c1e2b7a" });
    expect((await km.scheduleDeletion("arn:aws:kms:us-east-1:111122223333:key/x", { pendingWindowDays: 9 })).ok).toBe(true);
    expect(seen.scheduleDeletion).toEqual({ pendingWindowDays: 9 });
  });
});
