/**
 * Issue 11 §2: a bundle must prove it is complete for its agent and window. Deleting ANY entry
 * (first, middle, last, the revocation, the risk decision, the export's closing entry) from a
 * genuine bundle, exactly as `jq 'del(.data.entries[...])'` would, must fail verification with
 * exit 1 and say that entries were removed. Every run pins the genuine root, so nothing but the
 * deletion can fail.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signInternal, type EvidenceBundleV2 as EvidenceBundle } from "@kakunin/shared";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { CLI } from "./support/run.ts";

const CLI_DIR = join(import.meta.dirname, "..");
interface Run { code: number; stdout: string; stderr: string }
function kakunin(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env, KAKUNIN_CONFIG: join(tmpdir(), "kakunin-trim-no-config.json") };
    execFile(process.execPath, [CLI, ...args], { cwd: CLI_DIR, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err && typeof err.code === "number" ? err.code : err ? -1 : 0, stdout, stderr });
    });
  });
}

describe("a trimmed evidence bundle fails `kakunin audit verify`", () => {
  let o: TestOrigin;
  let dir = "";
  let agent = "";
  let full: EvidenceBundle;
  let windowed: EvidenceBundle;
  let windowStart = "";

  const write = (name: string, doc: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc, null, 2));
    return path;
  };
  const verify = (name: string, b: EvidenceBundle) => kakunin("audit", "verify", write(name, { data: b }), "--root", join(dir, "root.pem"));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-trim-"));
    o = await startTestOrigin("pglite");
    const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const post = async (path: string, doc: unknown) => {
      const body = JSON.stringify(doc);
      const headers = await signInternal(o.services.edgeSecret, "POST", path, body);
      const r = await o.request("POST", path, { key: null, rawBody: body, headers: { ...headers, "content-type": "application/json" } });
      expect(r.status).toBe(200);
    };
    const events = async (ids: string[]) => post("/internal/v1/events", {
      events: ids.map((id, i) => ({
        agent_id: agent, tenant_id: tenantId, serial_number: cert.serial_number, score: 0.1, band: "low", reasons: [], received_at: new Date().toISOString(),
        event: { event_id: id, timestamp: new Date(Date.now() + i).toISOString(), type: "transaction", action: "orders.place", amount: 100 + i, currency: "EUR", outcome: "success" },
      })),
    });
    await events(["e1", "e2", "e3"]);
    await new Promise((r) => setTimeout(r, 20));
    windowStart = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await events(["e4", "e5", "e6"]);
    // A high score: the origin decides (risk.decision) and, by default policy, revokes.
    await post("/internal/v1/risk-alerts", {
      alert_id: `al-${cert.id}`, agent_id: agent, tenant_id: tenantId, serial_number: cert.serial_number, score: 0.93,
      reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "x" }], event_ids: ["e6"], triggered_at: new Date().toISOString(),
    });
    full = (await o.json<{ data: EvidenceBundle }>("GET", `/v1/agents/${agent}/evidence?format=kakunin-evidence/2`)).body.data;
    windowed = (await o.json<{ data: EvidenceBundle }>("GET", `/v1/agents/${agent}/evidence?format=kakunin-evidence/2&from=${encodeURIComponent(windowStart)}`)).body.data;
    const chain = (await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem;
    write("root.pem", chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)![1]!);
  });
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the untouched bundles verify (full history and a window)", async () => {
    const kinds = full.entries.map((e) => e.kind);
    expect(kinds).toContain("certificate.revoked");
    expect(kinds).toContain("risk.decision");
    for (const [name, b] of [["full", full], ["windowed", windowed]] as const) {
      const r = await verify(`${name}.json`, b);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^✓ no entry removed: /m);
    }
    // The window leaves out e1–e3 but still holds every lifecycle entry before it.
    const events = windowed.entries.filter((e) => e.kind === "event.ingested").map((e) => (JSON.parse(e.canonical) as { data: { event: { event_id: string } } }).data.event.event_id);
    expect(events).not.toContain("e1");
    expect(events).toEqual(expect.arrayContaining(["e4", "e5", "e6"]));
  });

  /** The bundle without the entries `pick` selects, as jq's del() would leave it. */
  const without = (b: EvidenceBundle, pick: (e: EvidenceBundle["entries"][number], i: number, all: EvidenceBundle["entries"]) => boolean): EvidenceBundle => {
    const copy = structuredClone(b);
    const before = copy.entries.length;
    copy.entries = copy.entries.filter((e, i, all) => !pick(e, i, all));
    expect(copy.entries.length).toBeLessThan(before);
    return copy;
  };
  const eventId = (e: EvidenceBundle["entries"][number]) => (JSON.parse(e.canonical) as { data?: { event?: { event_id?: string } } }).data?.event?.event_id;

  const cases: [string, () => EvidenceBundle][] = [
    ["the first entry", () => without(full, (_e, i) => i === 0)],
    ["a middle entry (event e3)", () => without(full, (e) => eventId(e) === "e3")],
    ["the last event (e6)", () => without(full, (e) => eventId(e) === "e6")],
    ["the last entry (the export's checkpoint)", () => without(full, (_e, i, all) => i === all.length - 1)],
    ["the last two entries", () => without(full, (_e, i, all) => i >= all.length - 2)],
    ["the revocation", () => without(full, (e) => e.kind === "certificate.revoked")],
    ["the risk decision", () => without(full, (e) => e.kind === "risk.decision")],
    ["every event", () => without(full, (e) => e.kind === "event.ingested")],
    ["the certificate issuance, from a windowed bundle", () => without(windowed, (e) => e.kind === "certificate.issued")],
    ["an event inside the window (e5)", () => without(windowed, (e) => eventId(e) === "e5")],
    ["the window's opening boundary", () => without(windowed, (e) => eventId(e) === "e3")],
  ];
  it("--since-tree-head: a later bundle proves its tree extends an earlier signed head; a bundle without the proof, a changed proof or a forged head fail", async () => {
    const earlier = (await o.json<{ data: { tree_size: number; root_hash: string } }>("GET", "/v1/audit/tree-head")).body;
    const headFile = write("earlier-head.json", earlier);
    await o.json("POST", "/v1/agents", { body: agentBody({ name: "grows-the-log" }) });
    const later = (await o.json<{ data: EvidenceBundle }>("GET", `/v1/agents/${agent}/evidence?format=kakunin-evidence/2&since_size=${earlier.data.tree_size}`)).body.data;
    expect(later.consistency?.from_size).toBe(earlier.data.tree_size);
    const root = join(dir, "root.pem");
    const ok = await kakunin("audit", "verify", write("later.json", { data: later }), "--root", root, "--since-tree-head", headFile);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^✓ consistent with the earlier tree head: the tree of size \\d+ extends the earlier tree of size ${earlier.data.tree_size} `, "m"));
    // The later bundle with its proof taken out (full.json, exported before the head, is older than it: a different failure, evidence-rollback.test.ts).
    const { consistency: _dropped, ...bare } = later;
    const noProof = await kakunin("audit", "verify", write("no-proof.json", { data: bare }), "--root", root, "--since-tree-head", headFile);
    expect(noProof.code).toBe(1);
    expect(noProof.stdout).toContain("the bundle holds no consistency proof: export it with --since-tree-head");
    const bent = structuredClone(later);
    bent.consistency!.proof[0] = bent.consistency!.proof[0]!.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    const rewritten = await kakunin("audit", "verify", write("bent.json", { data: bent }), "--root", root, "--since-tree-head", headFile);
    expect(rewritten.code).toBe(1);
    expect(rewritten.stdout).toMatch(/is not an append-only extension of the earlier tree/);
    const forgedHead = write("forged-head.json", { data: { ...earlier.data, root_hash: "ab".repeat(32) } });
    const forged = await kakunin("audit", "verify", join(dir, "later.json"), "--root", root, "--since-tree-head", forgedHead);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toContain("its signature does not verify");
  });

  for (const [what, make] of cases) {
    it(`deleting ${what} → exit 1, "no entry removed" fails`, async () => {
      const r = await verify(`trim-${what.replace(/\W+/g, "-")}.json`, make());
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(/^✗ no entry removed: /m);
      expect(r.stdout).toMatch(/^FAILED: /m);
    });
  }
});
