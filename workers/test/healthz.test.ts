import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { probeWrongMethods } from "../../shared/src/method-probe.ts";
import { app } from "../src/app.ts";

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

  it("answers a served path under a method it does not serve with 405 and Allow, never 404", async () => {
    expect(app.routes.filter((r) => r.method !== "ALL").length).toBeGreaterThan(15);
    expect(await probeWrongMethods(app.routes, (r) => exports.default.fetch(r), "http://edge")).toEqual([]);
    const head = await exports.default.fetch("http://edge/v1/events", { method: "HEAD" });
    expect([head.status, head.headers.get("allow")]).toEqual([405, "POST"]);
    const put = await exports.default.fetch("http://edge/v1/verify/abcd", { method: "PUT" });
    expect(put.headers.get("allow")).toBe("GET, HEAD");
    expect(await put.json()).toMatchObject({ type: "urn:kakunin:problem:method-not-allowed", status: 405 });
  });
});
