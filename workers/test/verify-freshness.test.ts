import { reset } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { certRec, publish, verify } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

/** The `max-age` of a verify answer, in seconds. */
async function maxAge(serial: string): Promise<{ status: string; maxAge: number }> {
  const res = await verify(serial);
  const body = await res.json<{ data: { status: string } }>();
  const m = /max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "");
  return { status: body.data.status, maxAge: m ? Number(m[1]) : Number.NaN };
}

// An HTTP cache in front of the edge cannot recompute a status: an "active" answer must not stay
// fresh past the instant the certificate stops being active (expiry, end of a renewal's overlap).
describe("an active answer is never fresh past the certificate's next change", () => {
  it("a certificate expiring within the 2 s max-age is cached no longer than it stays active", async () => {
    const rec = certRec({ not_after: new Date(Date.now() + 1_200).toISOString() });
    await publish([rec]);
    const got = await maxAge(rec.serial_number);
    expect(got.status).toBe("active");
    expect(got.maxAge).toBeLessThanOrEqual(1);
  });

  it("a renewed certificate whose overlap ends within 2 s likewise", async () => {
    const rec = certRec({ superseded_at: new Date(Date.now() + 700).toISOString(), superseded_by: "4abc" });
    await publish([rec]);
    const got = await maxAge(rec.serial_number);
    expect(got.status).toBe("active");
    expect(got.maxAge).toBe(0);
  });

  it("a certificate far from any change keeps the usual 2 s", async () => {
    const rec = certRec();
    await publish([rec]);
    expect(await maxAge(rec.serial_number)).toEqual({ status: "active", maxAge: 2 });
  });
});
