import { describe, expect, it } from "vitest";
import { createVerifier } from "../src/index.ts";

// A misconfigured edgeUrl should fail when the gateway starts, as numeric options do: a query or a
// fragment silently moved every verify to another path (or to the host's root page), and
// credentials made every single request throw at fetch time, reported as "edge unreachable".
describe("edgeUrl is checked when the verifier is made", () => {
  it("refuses a query, a fragment or credentials, naming the option", () => {
    for (const edgeUrl of [
      "https://verify.example.com?tenant=a",
      "https://verify.example.com/#x",
      "https://user:pass@verify.example.com",
      "https://verify.example.com/ kakunin",
    ]) {
      expect(() => createVerifier({ edgeUrl }), edgeUrl).toThrow(/edgeUrl/);
    }
  });

  it("accepts a base URL with or without a path and trailing slashes", () => {
    for (const edgeUrl of ["https://verify.example.com", "https://verify.example.com/", "http://127.0.0.1:8787", "https://example.com/kakunin/"]) {
      expect(() => createVerifier({ edgeUrl }), edgeUrl).not.toThrow();
    }
  });
});
