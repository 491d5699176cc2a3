/**
 * The bundle's header (`agent`, `tenant`, `certificates[].status` and times) is outside the signed
 * entries: anyone can edit it without touching a hash. `kakunin audit verify` must refuse a bundle
 * whose header disagrees with what the signed entries, the X.509 certificates and the issuing CA
 * say, naming the field, and `kakunin audit report` must present only those signed facts (and
 * label what nothing signs). The genuine bundle still verifies and reports the same facts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EvidenceBundle, EvidenceBundleV2 } from "@kakunin/shared";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { fetchRoot, kakunin, type Run } from "./support/run.ts";

type Any = EvidenceBundle | EvidenceBundleV2;
const NO_CONFIG = { KAKUNIN_CONFIG: join(tmpdir(), "kakunin-header-no-config.json") };

describe("an evidence bundle's unsigned header cannot pass as verified", () => {
  let o: TestOrigin;
  let dir = "";
  let rootFile = "";
  let v3: EvidenceBundle;
  let v2: EvidenceBundleV2;
  let revokedSerial = "";

  const write = (name: string, b: Any): string => {
    const path = join(dir, name);
    // No indentation: v3 entries must stay byte for byte the hashed text.
    writeFileSync(path, JSON.stringify({ data: b }));
    return path;
  };
  const verify = (name: string, b: Any): Promise<Run> => kakunin(NO_CONFIG, "audit", "verify", write(name, b), "--root", rootFile);
  const report = (name: string, b: Any): Promise<Run> =>
    kakunin(NO_CONFIG, "audit", "report", write(name, b), "--root", rootFile, "--out", join(dir, `${name}.html`));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-header-"));
    o = await startTestOrigin("pglite");
    ({ rootFile } = await fetchRoot(o, dir));
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "teller-bot" }) })).body.data.id;
    const first = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    revokedSerial = first.serial_number;
    await o.json("PATCH", `/v1/agents/${agent}`, { body: { owner: { name: "Bob Ops", email: "bob@bank.example" }, scopes: ["orders.place"] } });
    expect((await o.json("POST", `/v1/certificates/${first.id}/revoke`, { body: { reason: "key leaked", reason_code: "keyCompromise" } })).status).toBe(200);
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    v3 = (await o.json<{ data: EvidenceBundle }>("GET", `/v1/agents/${agent}/evidence`)).body.data;
    v2 = (await o.json<{ data: EvidenceBundleV2 }>("GET", `/v1/agents/${agent}/evidence?format=kakunin-evidence/2`)).body.data;
  });
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the genuine bundles verify, and the report shows the signed facts", async () => {
    for (const [name, b] of [
      ["v3", v3],
      ["v2", v2],
    ] as const) {
      const r = await verify(`genuine-${name}.json`, b);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^✓ header agrees with the signed entries: /m);
    }
    const r = await report("genuine", v3);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const html = readFileSync(join(dir, "genuine.html"), "utf8");
    expect(html).toContain("owned by Bob Ops &lt;bob@bank.example&gt;");
    expect(html).toContain(`of tenant <strong>${v3.tenant.name}</strong>`);
    expect(html).toContain("<code>orders.place</code>");
    expect(html).not.toContain("<code>orders.*</code>");
    const revokedRow = html.split("<tr>").find((row) => row.includes(`<code>${revokedSerial}</code>`));
    expect(revokedRow).toMatch(/<td>revoked<\/td>/);
    expect(revokedRow).toContain("key leaked");
    // Nothing signs the agent's status: it is shown, labelled as such.
    expect(html).toMatch(/Status at export<\/dt><dd>[^<]*<span class="unverified">/);
  });

  const cases: [string, RegExp, (b: Any) => void][] = [
    [
      "agent.urn",
      /agent\.urn/,
      (b) => {
        b.agent.urn = "urn:kakunin:agent:00000000-0000-4000-8000-000000000000";
      },
    ],
    [
      "agent.name",
      /agent\.name/,
      (b) => {
        b.agent.name = "innocent-bot";
      },
    ],
    [
      "agent.model",
      /agent\.model/,
      (b) => {
        b.agent.model = { name: "certified-safe", version: "1", hash: `sha256:${"cd".repeat(32)}` };
      },
    ],
    [
      "agent.scopes",
      /agent\.scopes/,
      (b) => {
        b.agent.scopes = ["*"];
      },
    ],
    [
      "agent.owner",
      /agent\.owner/,
      (b) => {
        b.agent.owner = { name: "Mallory", email: "mallory@evil.example" };
      },
    ],
    [
      "tenant.name",
      /tenant\.name/,
      (b) => {
        b.tenant.name = "ACME Bank";
      },
    ],
    [
      "a revoked certificate's status",
      /certificates\[0\]\.status/,
      (b) => {
        b.certificates[0]!.status = "active";
      },
    ],
    [
      "a revoked certificate's revoked_at",
      /certificates\[0\]\.revoked_at/,
      (b) => {
        b.certificates[0]!.revoked_at = null;
      },
    ],
    [
      "a revocation reason",
      /certificates\[0\]\.revocation_reason/,
      (b) => {
        b.certificates[0]!.revocation_reason = null;
      },
    ],
    [
      "a certificate's expiry",
      /certificates\[1\]\.expires_at/,
      (b) => {
        b.certificates[1]!.expires_at = "2099-01-01T00:00:00Z";
      },
    ],
    [
      "a certificate's issue time",
      /certificates\[1\]\.issued_at/,
      (b) => {
        b.certificates[1]!.issued_at = "2020-01-01T00:00:00Z";
      },
    ],
    [
      "a hidden certificate",
      /certificate .* issued .* is not in certificates/,
      (b) => {
        b.certificates.splice(0, 1);
      },
    ],
  ];
  for (const [what, names, edit] of cases) {
    it(`editing ${what} in the header → verify fails naming it, no report`, async () => {
      for (const [fmt, genuine] of [
        ["v3", v3],
        ["v2", v2],
      ] as const) {
        const b = structuredClone(genuine);
        expect(b.certificates[0]!.serial_number).toBe(revokedSerial);
        edit(b);
        const file = `tampered-${what.replace(/\W+/g, "-")}-${fmt}`;
        const r = await verify(`${file}.json`, b);
        expect(r.code, r.stdout + r.stderr).toBe(1);
        expect(r.stdout).toMatch(/^✗ header agrees with the signed entries: /m);
        expect(r.stdout).toMatch(names);
        const rep = await report(file, b);
        expect(rep.code).toBe(1);
      }
    });
  }

  it("terminal control characters in a tampered bundle are shown escaped, never sent to the terminal", async () => {
    // An unsigned field that verify repeats in its failure (a certificate's serial), made to clear
    // the screen, print a genuine VERIFIED run, and hide what follows (the real FAILED line).
    const b = structuredClone(v3);
    const genuine = await verify("screen-genuine.json", v3);
    b.certificates[0]!.serial_number = `\u001b[0m\u001b[H\u001b[2J${genuine.stdout}\u001b[8m\u009b8m\u202e\r`;
    const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
    const r = await verify("screen.json", b);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAILED/m);
    expect(r.stdout).not.toMatch(controls);
    expect(r.stdout).toContain("\\u001b[8m");
    const rep = await report("screen", b);
    expect(rep.code).toBe(1);
    expect(rep.stderr).not.toMatch(controls);
    // --json is JSON still, with the same values: the characters are escaped, not dropped.
    const j = await kakunin(NO_CONFIG, "audit", "verify", join(dir, "screen.json"), "--root", rootFile, "--json");
    expect(j.stdout).not.toMatch(controls);
    expect(JSON.stringify(JSON.parse(j.stdout))).toContain("\\u001b[8m");
  });

  it("the verify header line names the tenant the issuing CA certifies, not the bundle's claim", async () => {
    const b = structuredClone(v3);
    b.tenant.name = "ACME Bank";
    const r = await verify("tenant-line.json", b);
    expect(r.stdout).not.toMatch(/tenant ACME Bank/);
  });
});
