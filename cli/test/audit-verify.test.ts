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

/** The CLI config these runs read: the root CA saved as `kakunin init` saves it (set in beforeAll). */
let configFile = join(tmpdir(), "kakunin-cli-no-config.json");

/** Runs the CLI exactly as a user would, through the bin launcher, in a child process. */
function kakunin(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env, KAKUNIN_CONFIG: configFile };
    execFile(process.execPath, [CLI, ...args], { cwd: CLI_DIR, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err && typeof err.code === "number" ? err.code : err ? -1 : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

interface JsonReport {
  ok: boolean;
  counts: { entries: number; events: number; events_valid: number };
  trust_anchor: { pinned: boolean; sha256: string };
  checks: { id: string; status: string; failures: { subject: string; index?: number; reasons: string[] }[] }[];
}

describe("kakunin audit verify against a real origin's evidence bundle", () => {
  let o: TestOrigin;
  let dir = "";
  let tenantId = "";
  let agent = "";
  let serial = "";
  let rootPem = "";
  let issuingPem = "";
  let response: { data: EvidenceBundle };
  let late: EvidenceBundle;

  const write = (name: string, doc: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc, null, 2));
    return path;
  };
  const copy = (): EvidenceBundle => structuredClone(response.data);
  const postEvents = async (events: Record<string, unknown>[], who = { agent: () => agent, serial: () => serial }, receivedAt = () => new Date().toISOString()) => {
    const body = JSON.stringify({
      events: events.map((event) => ({
        agent_id: who.agent(), tenant_id: tenantId, serial_number: who.serial(), event, score: 0.1, band: "low", reasons: [], received_at: receivedAt(),
      })),
    });
    const headers = await signInternal(o.services.edgeSecret, "POST", "/internal/v1/events", body);
    const r = await o.json<{ data: { stored: number } }>("POST", "/internal/v1/events", { key: null, rawBody: body, headers: { ...headers, "content-type": "application/json" } });
    expect(r.body.data.stored).toBe(events.length);
  };
  const event = (id: string, at: Date, amount: number) => ({ event_id: id, timestamp: at.toISOString(), type: "transaction", action: "orders.place", amount, currency: "EUR", outcome: "success" });
  const evidence = async () => {
    const r = await o.json<{ data: EvidenceBundle }>("GET", `/v1/agents/${agent}/evidence?format=kakunin-evidence/2`);
    expect(r.status).toBe(200);
    return r.body;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-cli-"));
    o = await startTestOrigin("pglite");
    tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    serial = cert.serial_number;
    const t = Date.now();
    await postEvents([event("e1", new Date(t), 1250), event("e2", new Date(t + 1), 73_400), event("e3", new Date(t + 2), 9)]);
    expect((await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "cli test" } })).status).toBe(200);
    response = await evidence();
    // After the revocation the edge still forwards an event signed with the revoked certificate.
    await postEvents([event("after-revocation", new Date(Date.now() + 1000), 5)]);
    late = (await evidence()).data;
    const chain = (await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem;
    const pems = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    expect(pems).toHaveLength(2);
    issuingPem = pems[0]!;
    rootPem = pems[1]!;
    // What `kakunin init` leaves behind: the origin's root is the pinned trust anchor.
    configFile = write("config.json", { root_ca_pem: rootPem });
  });
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("verifies the untouched bundle (saved HTTP response), every check ✓, exit 0", async () => {
    const b = response.data;
    expect(b.entries.map((e) => e.kind)).toEqual([
      "agent.created", "key.created", "certificate.issued", "event.ingested", "event.ingested", "event.ingested", "certificate.revoked", "evidence.exported",
    ]);
    const r = await kakunin("audit", "verify", write("bundle.json", response));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain("✓ format: kakunin-evidence/2");
    expect(lines).toContain(`✓ CA chain: root pinned, issuing CA signed by root, 1 agent certificate and the audit certificate signed by the issuing CA, audit certificate bound to tenant ${tenantId}`);
    expect(r.stdout).toMatch(/^ {4}trust anchor: .*SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2} \(matches the root kakunin init saved in .*config\.json\)/m);
    expect(r.stdout).toContain(`✓ signed tree head: tree size ${b.tree_head.tree_size.toLocaleString("en-US")}, root ${b.tree_head.root_hash.slice(0, 16)}…, signed ${b.tree_head.timestamp}`);
    // A chain link is checkable wherever the predecessor is in the bundle too.
    const links = b.entries.filter((e) => b.entries.some((p) => p.index === e.index - 1)).length;
    expect(links).toBeGreaterThan(0);
    expect(lines).toContain(`✓ no entry modified: 8 of 8 entries hash to their leaves and are included in the signed tree; ${links} hash-chain links checked`);
    expect(lines).toContain("✓ no entry removed: agent_seq 0–7 unbroken from the agent's first entry, ending with the export checkpoint at the end of the signed tree; all 4 lifecycle entries present");
    expect(lines).toContain("✓ certificate valid at the time of each event: 3 of 3 events received while their certificate was valid and before any revocation (1 revocation proven in the log)");
    expect(lines).toContain(`VERIFIED: 8 entries, tree size ${b.tree_head.tree_size.toLocaleString("en-US")}, signed ${b.tree_head.timestamp}, certificate valid at the time of each of 3 events`);
  });

  it("accepts the bare bundle, pins --root, and --json parses", async () => {
    const bare = write("bare.json", response.data);
    const pinned = await kakunin("audit", "verify", bare, "--root", write("root.pem", rootPem));
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).toMatch(/trust anchor: .*\(matches --root\)/);
    const wrongRoot = await kakunin("audit", "verify", bare, `--root=${write("issuing.pem", issuingPem)}`);
    expect(wrongRoot.code).toBe(1);
    expect(wrongRoot.stdout).toMatch(/^✗ CA chain: /m);
    expect(wrongRoot.stdout).toContain("is not the given --root");
    const j = await kakunin("audit", "verify", bare, "--json");
    expect(j.code).toBe(0);
    const report = JSON.parse(j.stdout) as JsonReport;
    expect(report.ok).toBe(true);
    expect(report.counts).toMatchObject({ entries: 8, events: 3, events_valid: 3 });
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([["format", "pass"], ["chain", "pass"], ["tree_head", "pass"], ["entries", "pass"], ["completeness", "pass"], ["header", "pass"], ["validity", "pass"]]);
    expect(report.trust_anchor.pinned).toBe(true);
  });

  /** Replaces the character at `at` with a different one of the same class, so the text stays well-formed. */
  const flip = (s: string, at: number): string => {
    const c = s[at]!;
    const next = /[0-9]/.test(c) ? String((Number(c) + 1) % 10) : /[a-f]/.test(c) ? (c === "f" ? "e" : String.fromCharCode(c.charCodeAt(0) + 1)) : c === "A" ? "B" : "A";
    return s.slice(0, at) + next + s.slice(at + 1);
  };
  const failing = async (name: string, b: EvidenceBundle) => {
    const r = await kakunin("audit", "verify", write(name, { data: b }));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^FAILED: /m);
    return r.stdout;
  };

  it("one changed digit of an event's amount → that entry is named, exit 1", async () => {
    const b = copy();
    const i = b.entries.findIndex((e) => e.canonical.includes('"amount":73400'));
    const e = b.entries[i]!;
    e.canonical = flip(e.canonical, e.canonical.indexOf('"amount":73400') + '"amount":'.length + 1);
    expect(e.canonical).toContain('"amount":74400');
    const out = await failing("amount.json", b);
    expect(out).toMatch(/^✗ no entry modified: 1 of 8 entries failed$/m);
    expect(out).toMatch(/^✓ no entry removed/m);
    expect(out).toMatch(new RegExp(`^ {4}entry ${e.index} \\(event.ingested\\): canonical text hashes to leaf [0-9a-f]{16}…, not leaf_hash .*inclusion proof does not lead to the signed root`, "m"));
    expect(out).toMatch(/^✓ signed tree head/m);
  });

  it("one changed byte of an audit_path element → that entry is named", async () => {
    const b = copy();
    const e = b.entries[2]!;
    e.audit_path[1] = flip(e.audit_path[1]!, 5);
    const out = await failing("path.json", b);
    expect(out).toContain(`    entry ${e.index} (certificate.issued): inclusion proof does not lead to the signed root`);
    expect(out).toMatch(/^✗ no entry modified: 1 of 8 entries failed$/m);
  });

  it("a changed root, signature or tree size → the tree head is named", async () => {
    const root = copy();
    root.tree_head.root_hash = flip(root.tree_head.root_hash, 10);
    const sig = copy();
    sig.tree_head.signature = flip(sig.tree_head.signature, 40);
    const size = copy();
    size.tree_head.tree_size += 1;
    for (const [name, b] of [["root", root], ["signature", sig], ["size", size]] as const) {
      const out = await failing(`${name}.json`, b);
      expect(out, name).toMatch(/^✗ signed tree head: does not verify/m);
      expect(out, name).toContain("    tree head: the signature does not verify with the signer certificate's key");
    }
    // Entries are proven against the root in the head, so a changed root also fails every proof.
    const out = await failing("root2.json", root);
    expect(out).toMatch(/^✗ no entry modified: 8 of 8 entries failed$/m);
  });

  it("back-filled history (claimed before the certificate, received while valid) passes with a warning; a receipt before the certificate fails", async () => {
    const a2 = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const s2 = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${a2}/certify`)).body.data.serial_number;
    const who = { agent: () => a2, serial: () => s2 };
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);
    await postEvents([event("history-1", hoursAgo(3), 10), event("history-2", hoursAgo(2), 11), event("today", new Date(), 12)], who);
    const fetchBundle = async () => (await o.json<{ data: EvidenceBundle }>("GET", `/v1/agents/${a2}/evidence?format=kakunin-evidence/2&from=${hoursAgo(4).toISOString()}`)).body;
    const ok = await kakunin("audit", "verify", write("backfilled.json", await fetchBundle()));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^✓ certificate valid at the time of each event: 3 of 3 events received while their certificate was valid/m);
    expect(ok.stdout).toMatch(/warning: 2 events claim a timestamp outside their certificate's validity but were received while it was valid .*entry \d+ history-1, entry \d+ history-2$/m);
    // A receipt time before the certificate existed cannot be vouched for by it.
    await postEvents([event("received-early", hoursAgo(1), 13)], who, () => hoursAgo(1).toISOString());
    const bad = await kakunin("audit", "verify", write("received-early.json", await fetchBundle()), "--json");
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as JsonReport;
    const validity = report.checks.find((c) => c.id === "validity")!;
    expect(validity.status).toBe("fail");
    expect(validity.failures).toHaveLength(1);
    expect(validity.failures[0]!.reasons[0]).toMatch(new RegExp(`event received-early at .*, received .*, is before certificate ${s2} became valid`));
  });

  it("an event under a certificate its renewal superseded → the validity check names it; during the overlap it passes", async () => {
    // Until 2026-12-06 only revocations ended a certificate's validity here, while the CRL lists a
    // superseded certificate and the edge refuses it: an out-of-date edge's event under the old
    // serial verified as "received while valid".
    const a3 = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const old = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${a3}/certify`)).body.data.serial_number;
    let current = old;
    const who = { agent: () => a3, serial: () => current };
    await postEvents([event("before-renewal", new Date(), 20)], who);
    const renewed = await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${a3}/certificates/renew`, { body: { overlap_seconds: 3600 } });
    expect(renewed.status).toBe(201);
    await postEvents([event("in-overlap", new Date(), 21)], who);
    // A second renewal ends the first one's overlap at once: the old serial is superseded from then on.
    expect((await o.json("POST", `/v1/agents/${a3}/certificates/renew`, { body: { overlap_seconds: 0 } })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 20));
    await postEvents([event("after-supersession", new Date(), 22)], who);
    current = renewed.body.data.serial_number;
    const bundle = (await o.json<{ data: unknown }>("GET", `/v1/agents/${a3}/evidence`)).body;
    const r = await kakunin("audit", "verify", write("superseded.json", bundle), "--json");
    expect(r.code).toBe(1);
    const validity = (JSON.parse(r.stdout) as JsonReport).checks.find((c) => c.id === "validity")!;
    expect(validity.status).toBe("fail");
    expect(validity.failures).toHaveLength(1);
    expect(validity.failures[0]!.reasons[0]).toMatch(new RegExp(`event after-supersession at .* is after certificate ${old} was superseded by its renewal`));
    // Before the renewal and in its overlap the old serial was valid: those two events pass.
    expect((JSON.parse(r.stdout) as JsonReport).counts).toMatchObject({ events: 3, events_valid: 2 });
  });

  it("an event after the certificate's revocation → the validity check names it", async () => {
    const r = await kakunin("audit", "verify", write("late.json", late), "--json");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.counts).toMatchObject({ events: 4, events_valid: 3 });
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(byId.entries!.status).toBe("pass");
    expect(byId.validity!.status).toBe("fail");
    const lateEntry = late.entries.find((e) => e.canonical.includes('"event_id":"after-revocation"'))!;
    expect(byId.validity!.failures).toHaveLength(1);
    expect(byId.validity!.failures[0]!.index).toBe(lateEntry.index);
    expect(byId.validity!.failures[0]!.reasons[0]).toMatch(new RegExp(`event after-revocation at .* is after certificate ${serial} was revoked`));
    const human = await kakunin("audit", "verify", write("late.json", late));
    expect(human.stdout).toMatch(/^✗ certificate valid at the time of each event: 1 of 4 events happened when their certificate was not valid$/m);
    expect(human.stdout).toContain(`    entry ${lateEntry.index} (event.ingested): event after-revocation at`);
  });

  it("the unsigned revoked_at cannot stand in for the proven revocation", async () => {
    const b = structuredClone(late);
    // Drop the certificate.revoked entry: the late event now looks fine, but the tool says why.
    b.entries = b.entries.filter((e) => e.kind !== "certificate.revoked");
    const r = await kakunin("audit", "verify", write("no-revocation.json", b));
    expect(r.stdout).toContain("has no certificate.revoked entry proving it");
    // …and the bundle no longer verifies: the revocation's removal breaks the agent's chain.
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✗ no entry removed/m);
  });

  it("usage and I/O errors exit 2; a JSON file that is not a bundle exits 1", async () => {
    for (const args of [[], ["audit"], ["audit", "verify"], ["audit", "verify", "--frob", "x.json"], ["audit", "verify", "a.json", "b.json"], ["audit", "verify", "x.json", "--root"], ["nope"]]) {
      const r = await kakunin(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("Usage: kakunin");
    }
    const missing = await kakunin("audit", "verify", join(dir, "missing.json"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read bundle .*missing\.json/);
    expect((await kakunin("audit", "verify", write("garbage.json", "{not json"))).code).toBe(2);
    const notBundle = await kakunin("audit", "verify", write("other.json", { data: { format: "something-else/1" } }));
    expect(notBundle.code).toBe(1);
    expect(notBundle.stdout).toMatch(/^✗ format: not a well-formed kakunin-evidence\/3 bundle/m);
    const v1 = await kakunin("audit", "verify", write("v1.json", { data: { ...response.data, format: "kakunin-evidence/1" } }));
    expect(v1.code).toBe(1);
    expect(v1.stdout).toMatch(/format kakunin-evidence\/1 is no longer accepted: .*export the bundle again/);
    const help = await kakunin("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("audit verify <bundle.json> [--root root.pem] [--since-tree-head FILE] [--oid-arc OID] [--json]");
  });
});
