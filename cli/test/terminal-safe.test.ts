import { describe, expect, it } from "vitest";
import { terminalSafe } from "../src/terminal-safe.ts";

describe("terminalSafe", () => {
  it("escapes the line and paragraph separators, as it escapes controls and bidi overrides", () => {
    expect(terminalSafe("bot\u2028status: revoked\u2029")).toBe("bot\\u2028status: revoked\\u2029");
    expect(terminalSafe("\u001b[2J\u202e")).toBe("\\u001b[2J\\u202e");
  });

  it("leaves text, newlines, tabs, right-to-left letters and joined emoji as they are", () => {
    const plain = "agent 1\tok\nשלום 👩\u200d💻";
    expect(terminalSafe(plain)).toBe(plain);
  });
});
