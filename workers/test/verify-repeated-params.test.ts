import { reset } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { certRec, env, HASH, publish, verify } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

/**
 * A check a gateway asks for is never silently dropped: a single-valued parameter given twice
 * (`?max_band=medium&max_band=low`, as a gateway that appends its own ceiling to a configured URL
 * produces) was read as its first value only, so the stricter ceiling or the second model hash was
 * ignored and the answer said valid. It is ambiguous input: 422, naming the parameter.
 */
describe("GET /v1/verify/:serial with a single-valued parameter repeated", () => {
  it.each([
    ["max_band", "?max_band=medium&max_band=low"],
    ["max_risk", "?max_risk=0.6&max_risk=0.4"],
    ["model_hash", `?model_hash=${HASH}&model_hash=sha256:${"0".repeat(64)}`],
    ["consistency", "?consistency=eventual&consistency=strong"],
  ])("%s twice is a 422", async (param, query) => {
    const rec = certRec();
    await publish([rec]);
    await env.CERT_STATUS.put(`risk:${rec.serial_number}`, JSON.stringify({ score: 0.5, t: Date.now() }));
    const r = await verify(rec.serial_number, query);
    expect(r.status).toBe(422);
    const body = await r.json<{ errors: { path: string }[] }>();
    expect(body.errors.map((e) => e.path)).toContain(param);
  });

  it("scope may be repeated (every scope must be granted)", async () => {
    const rec = certRec();
    await publish([rec]);
    expect((await verify(rec.serial_number, "?scope=orders.place&scope=orders.cancel")).status).toBe(200);
  });
});
