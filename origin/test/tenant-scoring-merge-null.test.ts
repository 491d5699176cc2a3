import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_THRESHOLDS } from "@kakunin/shared";
import { dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface View {
  thresholds: { medium: number; high: number };
  shadow: null | { thresholds?: { medium: number; high: number } };
}

/**
 * PATCH /v1/tenant/scoring merges `thresholds` as JSON Merge Patch (RFC 7396, docs/alerts-and-review.md).
 * In a merge patch a member set to null is removed: the line goes back to the scorer's default and
 * the other line keeps its stored value. It was a 422 ("expected number, received null"), so a
 * client resetting one line had to know and resend the default itself.
 */
describe.each(dbKinds())("tenant scoring thresholds, a null line, on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("resets that line to the default and keeps the other, audited like any change", async () => {
    const set = await o.json<{ data: View }>("PATCH", "/v1/tenant/scoring", { body: { thresholds: { medium: 0.2, high: 0.7 } } });
    expect(set.body.data.thresholds).toEqual({ medium: 0.2, high: 0.7 });
    const high = await o.json<{ data: View }>("PATCH", "/v1/tenant/scoring", { body: { thresholds: { high: null } } });
    expect(high.status).toBe(200);
    expect(high.body.data.thresholds).toEqual({ medium: 0.2, high: DEFAULT_THRESHOLDS.high });
    const medium = await o.json<{ data: View }>("PATCH", "/v1/tenant/scoring", { body: { thresholds: { medium: null } } });
    expect(medium.body.data.thresholds).toEqual(DEFAULT_THRESHOLDS);
    // A shadow candidate's left-out or null line is the default as well.
    const shadow = await o.json<{ data: View }>("PATCH", "/v1/tenant/scoring", { body: { shadow: { thresholds: { medium: null, high: 0.6 } } } });
    expect(shadow.status).toBe(200);
    expect(shadow.body.data.shadow?.thresholds).toEqual({ medium: DEFAULT_THRESHOLDS.medium, high: 0.6 });
  });

  it("a null line that breaks medium < high once merged is a 422 naming it, and changes nothing", async () => {
    expect((await o.json("PATCH", "/v1/tenant/scoring", { body: { thresholds: { medium: 0.2, high: 0.95 } } })).status).toBe(200);
    expect((await o.json("PATCH", "/v1/tenant/scoring", { body: { thresholds: { medium: 0.9 } } })).status).toBe(200);
    const refused = await o.json<{ errors?: { path: string }[] }>("PATCH", "/v1/tenant/scoring", { body: { thresholds: { high: null } } });
    expect(refused.status).toBe(422);
    expect(refused.body.errors?.[0]).toMatchObject({ path: "thresholds.high" });
    const after = await o.json<{ data: View }>("GET", "/v1/tenant/scoring");
    expect(after.body.data.thresholds).toEqual({ medium: 0.9, high: 0.95 });
  });
});
