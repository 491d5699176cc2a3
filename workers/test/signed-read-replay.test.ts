import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { signInternal } from "@kakunin/shared";
import { SECRET } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

/**
 * The origin's signed reads (an agent's risk, the operator's metrics) checked the signature and
 * the timestamp but not the nonce, so a captured call could be replayed for the whole ±300 s
 * window, reading the agent's risk (or the edge's metrics) again and again. Each signed call is
 * now claimed once in the coordinator's nonce store, as internal_publish's are.
 */
describe("signed internal reads refuse a replayed nonce", () => {
  for (const path of [`/v1/agents/${crypto.randomUUID()}/risk`, "/v1/admin/metrics"]) {
    it(`GET ${path.replace(/[0-9a-f-]{36}/, ":id")}: the same signed call twice is 401 the second time`, async () => {
      const headers = await signInternal(SECRET, "GET", path, "");
      const first = await exports.default.fetch(`http://edge${path}`, { headers });
      expect(first.status).toBe(200);
      const again = await exports.default.fetch(`http://edge${path}`, { headers });
      expect(again.status).toBe(401);
      expect(again.headers.get("content-type")).toMatch(/problem\+json/);
      // A fresh signature (new nonce) still reads.
      expect((await exports.default.fetch(`http://edge${path}`, { headers: await signInternal(SECRET, "GET", path, "") })).status).toBe(200);
    });
  }
});
