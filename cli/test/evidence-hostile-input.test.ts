/**
 * `kakunin audit verify` gives a verdict on any file: a hostile bundle fails with a report (exit
 * 1), never an internal error (exit 70, "please report", a stack trace). Until 2026-12-07 values
 * the checks read or quote without a type check crashed it: a `consistency` whose proof is not a
 * list or whose from_size is not a number (with --since-tree-head), a header value nested too
 * deep to quote in a failure, an entry whose `at` or `v` is one, a certificate.issued entry whose
 * time is not a date. Exit 70 tells scripts "bug in the tool", not "this evidence is bad".
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { verifyStream } from "../src/verify/index.ts";
import { fetchRoot, kakunin } from "./support/run.ts";

const DEEP = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;

describe("a hostile bundle gets a failed verdict, not a crash", () => {
  let o: TestOrigin;
  let dir = "";
  let rootPem = "";
  let rootFile = "";
  let earlier = "";
  let bundle = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-hostile-"));
    o = await startTestOrigin("pglite");
    ({ rootPem, rootFile } = await fetchRoot(o, dir));
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    earlier = await (await o.request("GET", `/v1/agents/${agent}/evidence`)).text();
    const size = (JSON.parse(earlier) as { data: { tree_head: { tree_size: number } } }).data.tree_head.tree_size;
    bundle = await (await o.request("GET", `/v1/agents/${agent}/evidence?since_size=${size}`)).text();
  }, 120_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const since = () => JSON.parse(earlier) as unknown;
  const verify = (text: string, sinceTreeHead?: unknown) =>
    verifyStream(
      (async function* () {
        yield text;
      })(),
      { rootPem, ...(sinceTreeHead === undefined ? {} : { sinceTreeHead }) },
    );
  const edited = (edit: (b: Record<string, unknown>) => string | undefined): string => {
    const doc = JSON.parse(bundle) as { data: Record<string, unknown> };
    return edit(doc.data) ?? JSON.stringify(doc);
  };
  /** The bundle's text with `raw` (JSON text) in place of the value of header member `key`. */
  const withRaw = (key: string, raw: string): string => {
    const doc = JSON.parse(bundle) as { data: Record<string, unknown> };
    doc.data[key] = "\u0000marker";
    return JSON.stringify(doc).replace(JSON.stringify("\u0000marker"), raw);
  };
  /** The bundle's text with an extra element (raw JSON text) before the last entry. */
  const withElement = (raw: string): string => {
    const i = bundle.lastIndexOf(',{"actor"');
    return `${bundle.slice(0, i)},${raw}${bundle.slice(i)}`;
  };

  it("the genuine bundle verifies against the earlier tree head", async () => {
    const r = await verify(bundle, since());
    expect(r.summary).toMatch(/^VERIFIED/);
  });

  const cases: [string, () => string, boolean][] = [
    [
      "a consistency proof that is a string",
      () =>
        edited((b) => {
          (b.consistency as { proof: unknown }).proof = "x";
          return undefined;
        }),
      true,
    ],
    [
      "a consistency that is an array",
      () =>
        edited((b) => {
          b.consistency = [1];
          return undefined;
        }),
      true,
    ],
    [
      "an agent.model nested too deep to quote",
      () => {
        const doc = JSON.parse(bundle) as { data: { agent: { model: unknown } } };
        doc.data.agent.model = "\u0000marker";
        return JSON.stringify(doc).replace(JSON.stringify("\u0000marker"), DEEP);
      },
      false,
    ],
    [
      "a signer_serial nested too deep to quote",
      () => {
        const doc = JSON.parse(bundle) as { data: { tree_head: { signer_serial: unknown } } };
        doc.data.tree_head.signer_serial = "\u0000marker";
        return JSON.stringify(doc).replace(JSON.stringify("\u0000marker"), DEEP);
      },
      false,
    ],
    ["a format nested too deep to quote", () => withRaw("format", DEEP), false],
    ["an entry whose v and at are nested too deep", () => withElement(`{"index":1,"kind":"x","v":${DEEP},"at":${DEEP}}`), false],
    [
      "a certificate.issued entry whose time is not a date",
      () => {
        const doc = JSON.parse(bundle) as { data: { certificates: { serial_number: string }[]; agent: { id: string } } };
        const serial = doc.data.certificates[0]!.serial_number;
        return withElement(
          JSON.stringify({ index: 1, kind: "certificate.issued", v: 2, at: "not a time", agent_id: doc.data.agent.id, data: { serial_number: serial } }),
        );
      },
      false,
    ],
  ];
  for (const [name, make, needsSince] of cases) {
    it(`${name}: fails with a report`, async () => {
      const text = make();
      const r = await verify(text, needsSince ? since() : undefined);
      expect(r.ok).toBe(false);
      expect(r.summary).toMatch(/^FAILED/);
    });
  }

  it("the CLI answers exit 1 with the failures, not exit 70, on both of its paths", async () => {
    const earlierFile = join(dir, "earlier.json");
    writeFileSync(earlierFile, earlier);
    for (const [i, [name, make, needsSince]] of cases.entries()) {
      const file = join(dir, `hostile-${i}.json`);
      writeFileSync(file, make());
      for (const path of ["fast", "reference"]) {
        const env = { KAKUNIN_CONFIG: join(dir, "no-config.json"), ...(path === "reference" ? { KAKUNIN_VERIFY_PATH: "reference" } : {}) };
        const r = await kakunin(env, "audit", "verify", file, "--root", rootFile, ...(needsSince ? ["--since-tree-head", earlierFile] : []));
        expect(r.code, `${name} (${path} path): ${r.stderr.slice(0, 400)}`).toBe(1);
        expect(r.stdout).toMatch(/^FAILED/m);
        expect(r.stderr).not.toMatch(/internal error/);
      }
    }
  }, 120_000);
});
