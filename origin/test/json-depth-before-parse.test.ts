/**
 * A JSON body nested as deep as the 1 MiB limit allows (524,288 brackets) took JSON.parse about a
 * second on Node 24 (it is not linear in depth: 100,000 take ~30 ms), and every JSON body was
 * parsed before authentication and before the depth limit was checked: anyone could stall the
 * origin a second per request. The depth is now read from the bytes first (one pass), and such a
 * body is refused, naming the same path, without JSON.parse ever seeing it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { MAX_JSON_DEPTH, tooDeepPath } from "@kakunin/shared";
import { tooDeepPathInText } from "../../shared/src/json-depth-scan.ts";
import { startTestOrigin, type TestOrigin } from "./harness.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("nesting read from the bytes, before parsing", () => {
  it("names the same path as the check on the parsed value, for every kind of nesting", () => {
    const nest = (open: string, close: string, n: number, inner = "1") => open.repeat(n) + inner + close.repeat(n);
    const texts = [
      nest('{"k":', "}", 65),
      nest('{"k":', "}", 64),
      nest("[", "]", 65),
      nest("[", "]", 64),
      `{"a":[1,{"b":"[[[[{{{{"},${nest("[", "]", 70)}],"c":2}`,
      `{"x\\"y":{"\\u00e9t\\u00e9":${nest("[", "]", 63)}}}`,
      `[{"a":1,"b":2},{"c":[0,1,2,${nest('{"q\\\\":', "}", 64)}]}]`,
      `{"s":"\\\\","t":${nest("[1,", "]", 66, "2")}}`,
      `{"dup":1,"dup":${nest("[", "]", 64)}}`,
      `"just a string with [[[ and {{{"`,
    ];
    for (const t of texts) {
      expect(tooDeepPathInText(bytes(t), MAX_JSON_DEPTH), t.slice(0, 60)).toEqual(tooDeepPath(JSON.parse(t), MAX_JSON_DEPTH));
    }
  });

  describe("on a route", () => {
    let o: TestOrigin;
    beforeAll(async () => {
      o = await startTestOrigin("pglite");
    });
    afterAll(async () => {
      await o.close();
    });
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it("a body nested up to the size limit is refused 422 naming the path, before JSON.parse reads it and before authentication", async () => {
      const levels = 500_000;
      const body = `{"name":${"[".repeat(levels)}${"]".repeat(levels)}}`;
      const parse = vi.spyOn(JSON, "parse");
      const r = await o.json<{ type: string; errors: { path: string; message: string }[] }>("POST", "/v1/agents", {
        key: null,
        rawBody: body,
        headers: { "content-type": "application/json" },
      });
      const biggest = Math.max(0, ...parse.mock.calls.map(([text]) => String(text).length));
      vi.restoreAllMocks();
      expect(r.status).toBe(422);
      expect(r.body.type).toBe("urn:kakunin:problem:validation-failed");
      expect(r.body.errors[0]!.path).toBe(["name", ...Array.from({ length: 63 }, (_, i) => String(i * 0))].join("."));
      // The 1 MB text itself never reached JSON.parse (the problem body is parsed by the test: small).
      expect(biggest).toBeLessThan(10_000);
    });
  });
});
