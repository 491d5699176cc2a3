import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { configSchema } from "../src/config.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");

/** The README's configuration section: everything from its heading to the next `## ` heading. */
function configSection(): string {
  const start = readme.indexOf("\n## Configuration");
  expect(start, "README has a '## Configuration' section").toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/**
 * The README promises a configuration table with every environment variable. These tests read the
 * variables from where the code declares them (the origin's zod schema, the Worker's Env type),
 * so a variable added without documentation fails CI.
 */
describe("README configuration table", () => {
  it("documents every origin environment variable", () => {
    const section = configSection();
    const missing = Object.keys(configSchema.shape).filter((name) => !section.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it("documents every edge variable and secret", () => {
    const envTypes = readFileSync(resolve(ROOT, "workers/src/env.d.ts"), "utf8");
    const names = [...envTypes.matchAll(/^\s+([A-Z][A-Z0-9_]+)\??:\s*string;/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(2);
    const section = configSection();
    expect(names.filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
  });
});
