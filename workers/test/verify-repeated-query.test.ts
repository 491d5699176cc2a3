import { reset } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { certRec, HASH, publish, verify } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

interface Problem {
  status: number;
  errors: { path: string; message: string }[];
}

/**
 * `model_hash`, `max_band`, `max_risk` and `consistency` name one value each. Given twice, the
 * route used to read the first and drop the rest: `?model_hash=<bound>&model_hash=<other>` was
 * `valid: true` although the second check fails, and the answer depended on parameter order. The
 * origin refuses a repeated single-valued parameter (422); the edge now does the same, naming it.
 */
describe("GET /v1/verify/:serial with a single-valued parameter given twice", () => {
  const other = `sha256:${"cd".repeat(32)}`;

  it.each([
    ["model_hash", `?model_hash=${HASH}&model_hash=${other}`],
    ["model_hash", `?model_hash=${other}&model_hash=${HASH}`],
    ["max_band", "?max_band=medium&max_band=low"],
    ["max_risk", "?max_risk=1&max_risk=0"],
    ["consistency", "?consistency=eventual&consistency=strong"],
  ])("%s: 422 naming it, whatever the order (%s)", async (name, query) => {
    const rec = certRec();
    await publish([rec]);
    const res = await verify(rec.serial_number, query);
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await res.json<Problem>();
    expect(body.errors).toEqual([{ path: name, message: "given more than once; send it once" }]);
  });

  it("repeatable parameters (scope, include) stay repeatable", async () => {
    const rec = certRec();
    await publish([rec]);
    const res = await verify(
      rec.serial_number,
      `?model_hash=${HASH}&scope=orders.place&scope=crm.lookup_customer&include=certificate_pem&include=certificate_pem`,
    );
    expect(res.status).toBe(200);
    expect((await res.json<{ data: { valid: boolean } }>()).data.valid).toBe(true);
  });
});
