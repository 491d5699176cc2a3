import { readFileSync } from "node:fs";
import { STEERING_SOURCE } from "@kakunin/shared";
import { describe, expect, it } from "vitest";

/**
 * The console's pages are rewritten with showControls on the server; its tooltip is built in the
 * browser by assets/console.js, which cannot import shared code and holds its own copy of the
 * pattern. A character added to one and not the other would be obeyed again in the tooltip.
 */
describe("steering characters: console.js and shared/src/visible-controls.ts", () => {
  it("console.js escapes exactly the characters showControls does", () => {
    const js = readFileSync(new URL("../src/console/assets/console.js", import.meta.url), "utf8");
    const copy = /const STEERING = \/(.+)\/g;/.exec(js)?.[1];
    expect(copy).toBe(STEERING_SOURCE);
  });
});
