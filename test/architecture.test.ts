import { describe, expect, it } from "vitest";
// @ts-expect-error a plain .mjs script without declarations (it runs in `pnpm lint` without a build)
import { check, importsOf, KNOWN, repoFiles } from "../scripts/check-architecture.mjs";

interface Finding {
  file: string;
  rule: string;
  target: string;
}
const run = check as (files: Record<string, string>) => { violations: Finding[]; stale: Finding[] };

// The architecture's rules (scripts/check-architecture.mjs, also run by `pnpm lint`): the
// repository holds them, and each rule really fires on a file that breaks it.
describe("architecture rules", () => {
  it("hold for the repository, with no stale entry in the list of known exceptions", () => {
    const r = run(repoFiles());
    expect(r.violations).toEqual([]);
    expect(r.stale).toEqual([]);
    expect(KNOWN as Finding[]).toEqual([]); // every exception is fixed: a new violation fails, none may be listed
  });

  it("fire on each kind of violation", () => {
    const files: Record<string, string> = {
      "workers/src/x.ts": 'import { readFileSync } from "node:fs";\nimport { KMSClient } from "@aws-sdk/client-kms";',
      "shared/src/x.ts": 'import { app } from "../../origin/src/app.ts";',
      "sdk/src/x.ts": 'import { z } from "zod";\nexport { inScope } from "../../shared/src/scope.ts";',
      "sdk/src/ok.ts": 'import type { Context } from "hono";', // type-only peer import: allowed
      "workers/src/y.ts": 'const m = await import("../../origin/src/config.ts");',
      "origin/src/kms/x.ts": 'import { appendAudit } from "../audit/append.ts";',
      "origin/src/lifecycle/x.ts": 'import { toAgentView } from "../views/agent.ts";',
      "origin/src/routes/v1_x.ts": "await tx.insert(agents).values(row);",
    };
    const rules = run(files)
      .violations.map((v) => `${v.file} ${v.rule}`)
      .sort();
    expect(rules).toEqual([
      "origin/src/kms/x.ts ca-kms-no-audit",
      "origin/src/lifecycle/x.ts domain-no-views",
      "origin/src/routes/v1_x.ts thin-routes",
      "sdk/src/x.ts sdk-self-contained",
      "sdk/src/x.ts sdk-self-contained",
      "shared/src/x.ts shared-no-components",
      "workers/src/x.ts web-apis-only",
      "workers/src/x.ts web-apis-only",
      "workers/src/y.ts edge-origin-apart",
    ]);
  });

  it("reads imports, re-exports, type-only imports and dynamic imports, not comments", () => {
    const found = (importsOf as (t: string) => { spec: string; typeOnly: boolean }[])(`// import x from "commented";
/* import y from "block"; */
import type { A } from "./a.ts";
import {
  b,
  c,
} from "./b.ts";
export { d } from "./d.ts";
import "./side-effect.ts";
const e = await import("./e.ts");`);
    expect(found).toEqual([
      { spec: "./a.ts", typeOnly: true },
      { spec: "./b.ts", typeOnly: false },
      { spec: "./d.ts", typeOnly: false },
      { spec: "./side-effect.ts", typeOnly: false },
      { spec: "./e.ts", typeOnly: false },
    ]);
  });
});
