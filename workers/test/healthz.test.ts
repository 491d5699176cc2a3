import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("edge basics", () => {
  it("answers /healthz with 200", async () => {
    const res = await exports.default.fetch("http://edge/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("answers an unknown route with a problem+json 404", async () => {
    const res = await exports.default.fetch("http://edge/v1/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = await res.json<{ type: string; status: number }>();
    expect(body).toMatchObject({ type: "urn:kakunin:problem:not-found", status: 404 });
  });
});
