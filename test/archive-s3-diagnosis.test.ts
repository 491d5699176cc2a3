import { createHash, randomBytes } from "node:crypto";
import { createS3Archive } from "@kakunin/origin/archive/index";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { S3_MISSING, s3EnvFromProcess, type S3Env } from "./support/s3-admin.ts";

/**
 * What on-call reads when the archive stops: every put() starts with a HEAD, and a HEAD error has
 * no body, so expired or wrong credentials, a wrong key id and clock skew all used to read
 * "S3 HEAD <key>: HTTP 403", the same line for causes with different fixes. Against a real S3
 * (Ceph RGW, scripts/worm-s3/ceph-up.sh).
 */
const S3 = s3EnvFromProcess();
if (!S3 && process.env.CI === "true") {
  describe("S3 archive diagnosis (CI)", () => {
    it("has a real S3 server to test against", () => {
      throw new Error(S3_MISSING);
    });
  });
} else if (!S3) {
  console.warn(`archive-s3-diagnosis.test.ts: skipping: ${S3_MISSING}`);
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

describe.skipIf(!S3)("S3 archive errors name their cause (Ceph RGW)", () => {
  const env = (): S3Env => S3!;
  const bucket = `kakunin-diagnosis-${Date.now()}-${randomBytes(3).toString("hex")}`;
  const body = new TextEncoder().encode('{"index":0}\n');
  const put = (o: Partial<S3Env> = {}) =>
    createS3Archive({ ...env(), ...o, bucket, timeoutMs: 5_000 }).put("audit/t/000000000000-000000000000.jsonl", body, {
      retainUntil: new Date(Date.now() + 3_600_000),
      sha256Hex: sha256(body),
    });

  beforeAll(async () => {
    expect((await createS3Archive({ ...env(), bucket }).ensureBucket()).ok).toBe(true);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("clock skew: RequestTimeTooSkewed with both clocks, not a bare 403", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 20 * 60_000); // this origin's clock 20 min ahead
    const r = await put();
    expect(r).toMatchObject({ ok: false, error: { code: "misconfigured" } });
    if (!r.ok) {
      expect(r.error.message).toContain("RequestTimeTooSkewed");
      expect(r.error.message).toMatch(/the S3 server's time is .+ GMT, this origin's .+ GMT: synchronise the clocks/);
    }
  });

  it("a wrong secret and an unknown key id are named as such", async () => {
    const wrongSecret = await put({ secretAccessKey: `${env().secretAccessKey}x` });
    expect(wrongSecret).toMatchObject({ ok: false, error: { code: "misconfigured", message: expect.stringContaining("SignatureDoesNotMatch") } });
    const unknownKey = await put({ accessKeyId: "KAKUNINNOSUCHKEY" });
    expect(unknownKey).toMatchObject({ ok: false, error: { code: "misconfigured", message: expect.stringContaining("InvalidAccessKeyId") } });
  });

  it("with the right credentials and clock the put goes through (the extra GET only follows a HEAD error)", async () => {
    const spy = vi.spyOn(globalThis, "fetch");
    expect((await put()).ok).toBe(true);
    const sent = spy.mock.calls.map(([input]) => (input instanceof Request ? input.method : "?"));
    expect(sent).toEqual(["HEAD", "PUT"]);
    spy.mockRestore();
  });
});
