import { describe, expect, it } from "vitest";
import { createVerifier, type VerifyChecks } from "../src/index.ts";
import { activeAnswer } from "./edge-answer.ts";

// The documented promise is that verify() never throws. A JavaScript gateway hands it whatever
// its framework gives: Node's `req.headers[name]` is undefined when the header is missing and may
// be a string[]; an unset options object is often null. Each is a refusal, not an exception.
describe("verify() never throws, whatever a JavaScript caller passes", () => {
  const verifier = createVerifier({ edgeUrl: "http://edge.test", fetch: async () => new Response(null, { status: 503 }) });

  it("a missing, array or numeric serial is invalid_serial, with no request", async () => {
    for (const raw of [undefined, null, ["4d2f"], 0x4d2f, {}]) {
      const r = await verifier.verify(raw as unknown as string);
      expect(r, JSON.stringify(raw)).toMatchObject({ kind: "invalid_serial", valid: false, reasons: [{ code: "invalid_serial" }] });
    }
  });

  it("invalidate() with null or a non-string forgets everything instead of throwing", () => {
    for (const raw of [null, 0x4d2f, ["4d2f"]]) expect(() => verifier.invalidate(raw as unknown as string), JSON.stringify(raw)).not.toThrow();
  });

  it("null checks are no checks", async () => {
    const answering = createVerifier({
      edgeUrl: "http://edge.test",
      includeCertificate: false,
      fetch: async (r) =>
        Response.json({
          data: activeAnswer(new URL(r.url).pathname.split("/").pop()!),
        }),
    });
    expect(await answering.verify("4d2f", null as unknown as VerifyChecks)).toMatchObject({ kind: "checked", valid: true });
  });
});
