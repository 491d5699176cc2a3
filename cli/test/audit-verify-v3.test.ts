/**
 * kakunin-evidence/3 (issue 16 goal 6): the v3 counterpart of every tamper, trim, reorder and
 * forgery case the v2 tests hold (audit-verify, evidence-trim, evidence-forgery), plus the attacks
 * a shared multiproof invites: a dropped entry whose proof is re-derived so the Merkle check
 * passes, a duplicated or reordered entry, a substituted, surplus or missing proof node, a proof
 * for another tree size, entries of another agent or tenant, a non-canonical entry text. Each
 * must exit 1 with the reason named. Bundles come from a real origin; the attacker's re-derived
 * proofs use the origin's own stored nodes (an insider who can read the log).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gapNodes, signInternal, type AuditEntryJson, type EvidenceBundle } from "@kakunin/shared";
import { withPrefetchedNodes } from "../../origin/src/audit/proof-reader.ts";
import { agentBody, rowsOf, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { CLI } from "./support/run.ts";

const CLI_DIR = join(import.meta.dirname, "..");
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function kakunin(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env, KAKUNIN_CONFIG: join(tmpdir(), "kakunin-v3-no-config.json") };
    execFile(process.execPath, [CLI, ...args], { cwd: CLI_DIR, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err && typeof err.code === "number" ? err.code : err ? -1 : 0, stdout, stderr });
    });
  });
}

type Item = AuditEntryJson | string;
const entriesOf = (b: EvidenceBundle): AuditEntryJson[] => b.entries.filter((e): e is AuditEntryJson => typeof e !== "string");
const eventId = (e: AuditEntryJson) => (e.data as { event?: { event_id?: string } } | undefined)?.event?.event_id;

describe("kakunin audit verify, kakunin-evidence/3: every tamper, trim, reorder and forgery fails with the reason named", () => {
  let o: TestOrigin;
  let dir = "";
  let tenantId = "";
  let agent = "";
  let other = "";
  let serial = "";
  let full: EvidenceBundle;
  let windowed: EvidenceBundle;
  let late: EvidenceBundle;
  let otherBundle: EvidenceBundle;
  let foreignEntry: AuditEntryJson;

  const write = (name: string, doc: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc));
    return path;
  };
  const verify = (name: string, b: EvidenceBundle | string, ...more: string[]) =>
    kakunin("audit", "verify", write(name, typeof b === "string" ? b : { data: b }), "--root", join(dir, "root.pem"), ...more);
  const failing = async (name: string, b: EvidenceBundle | string) => {
    const r = await verify(name, b);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^FAILED: /m);
    return r.stdout;
  };
  const post = async (path: string, doc: unknown) => {
    const body = JSON.stringify(doc);
    const headers = await signInternal(o.services.edgeSecret, "POST", path, body);
    const r = await o.request("POST", path, { key: null, rawBody: body, headers: { ...headers, "content-type": "application/json" } });
    expect(r.status).toBe(200);
  };
  const events = (ids: string[], received = () => new Date().toISOString()) =>
    post("/internal/v1/events", {
      events: ids.map((id, i) => ({
        agent_id: agent,
        tenant_id: tenantId,
        serial_number: serial,
        score: 0.1,
        band: "low",
        reasons: [],
        received_at: received(),
        event: {
          event_id: id,
          timestamp: new Date(Date.now() + i).toISOString(),
          type: "transaction",
          action: "orders.place",
          amount: id === "e2" ? 73_400 : 100 + i,
          currency: "EUR",
          outcome: "success",
        },
      })),
    });
  const bundle = async (q = ""): Promise<EvidenceBundle> => {
    const r = await o.json<{ data: EvidenceBundle }>("GET", `/v1/agents/${agent}/evidence${q}`);
    expect(r.status).toBe(200);
    expect(r.body.data.format).toBe("kakunin-evidence/3");
    return r.body.data;
  };
  /** `b` with exactly `keep` as its entries and a correct multiproof for them: the Merkle check alone cannot tell. */
  const reprove = async (b: EvidenceBundle, keep: AuditEntryJson[], size = b.tree_head.tree_size): Promise<EvidenceBundle> => {
    const items = await withPrefetchedNodes(o.services.db, tenantId, async (reader) => {
      const out: Item[] = [];
      let next = 0;
      for (const e of keep) {
        const g = await gapNodes(next, e.index, size, reader);
        if (g.length) out.push(Buffer.from(g).toString("base64"));
        out.push(e);
        next = Math.max(next, e.index + 1);
      }
      const g = await gapNodes(next, size, size, reader);
      if (g.length) out.push(Buffer.from(g).toString("base64"));
      return out;
    });
    return { ...structuredClone(b), entries: items };
  };
  const without = (b: EvidenceBundle, pick: (e: AuditEntryJson, i: number, all: AuditEntryJson[]) => boolean) => {
    const all = entriesOf(b);
    const keep = all.filter((e, i) => !pick(e, i, all));
    expect(keep.length).toBeLessThan(all.length);
    return keep;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-v3-"));
    o = await startTestOrigin("pglite");
    tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    other = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "other-agent" }) })).body.data.id;
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    serial = cert.serial_number;
    await events(["e1", "e2", "e3"]);
    await o.json("POST", `/v1/agents/${other}/certify`);
    await new Promise((r) => setTimeout(r, 20));
    const windowStart = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await events(["e4", "e5", "e6"]);
    await post("/internal/v1/risk-alerts", {
      alert_id: `al-${cert.id}`,
      agent_id: agent,
      tenant_id: tenantId,
      serial_number: serial,
      score: 0.93,
      reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "x" }],
      event_ids: ["e6"],
      triggered_at: new Date().toISOString(),
    });
    full = await bundle();
    windowed = await bundle(`?from=${encodeURIComponent(windowStart)}`);
    await events(["after-revocation"]);
    late = await bundle();
    otherBundle = (await o.json<{ data: EvidenceBundle }>("GET", `/v1/agents/${other}/evidence`)).body.data;
    const tenantB = (await o.json<{ data: { id: string } }>("POST", "/v1/tenants", { body: { name: "victim-bank" } })).body.data.id;
    const [row] = rowsOf<{ canonical: string }>(
      await o.services.db.execute(`select canonical from audit_entries where tenant_id = '${tenantB}' order by idx limit 1`),
    );
    foreignEntry = JSON.parse(row!.canonical) as AuditEntryJson;
    const chain = (await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem;
    write("root.pem", chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)![1]!);
  });
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the untouched bundles verify; a reformatted one (jq .) names its entries as not canonical; v2 of the same agent is still verified", async () => {
    const kinds = entriesOf(full).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["certificate.issued", "certificate.revoked", "risk.decision", "evidence.exported"]));
    // The other agent's entries are interleaved with this one's: the bundle carries proof strings.
    expect(full.entries.some((e) => typeof e === "string")).toBe(true);
    const r = await verify("full.json", full);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^✓ format: kakunin-evidence\/3$/m);
    expect(r.stdout).toMatch(
      new RegExp(
        `^✓ no entry modified: ${kinds.length} of ${kinds.length} entries hash into the signed tree \\(one multiproof, \\d+ proof nodes?\\); \\d+ hash-chain links checked$`,
        "m",
      ),
    );
    expect(r.stdout).toMatch(/^✓ no entry removed: /m);
    expect(r.stdout).toMatch(/^VERIFIED: /m);
    // Reformatted (jq .): the entries are no longer the bytes that were hashed; each is named.
    const pretty = await failing("pretty.json", JSON.stringify({ data: full }, null, 2));
    expect(pretty).toMatch(
      /^ {4}entry \d+ \(agent.created\): the entry's text has line breaks, so it is not the canonical text that was hashed: the file was reformatted/m,
    );
    const w = await verify("windowed.json", windowed);
    expect(w.code, w.stdout).toBe(0);
    const v2 = (await o.json<{ data: unknown }>("GET", `/v1/agents/${agent}/evidence?format=kakunin-evidence/2`)).body;
    const r2 = await kakunin("audit", "verify", write("v2.json", v2), "--root", join(dir, "root.pem"));
    expect(r2.stdout).toMatch(/^✓ format: kakunin-evidence\/2$/m);
    expect(r2.stdout).toMatch(/^✓ no entry modified: /m);
    expect(r2.stdout).toMatch(/^✓ no entry removed: /m);
    // (Its one failure is the event the edge forwarded after the revocation, the case below.)
    expect(r2.stdout).toMatch(/^✗ certificate valid at the time of each event: 1 of \d+ events/m);
  });

  it("one changed digit of an event's amount → that entry is named (its successor's prev disagrees) and the multiproof fails", async () => {
    const b = structuredClone(full);
    const e = entriesOf(b).find((x) => eventId(x) === "e2")!;
    (e.data as { event: { amount: number } }).event.amount = 74_400;
    const out = await failing("amount.json", b);
    expect(out).toMatch(/^✗ no entry modified: /m);
    expect(out).toMatch(new RegExp(`^ {4}entry ${e.index} \\(event.ingested\\): its text hashes to leaf [0-9a-f]{16}…, but entry ${e.index + 1} records`, "m"));
    // A modification, not a removal: the agent chain's link to it is not counted twice.
    expect(out).toMatch(/^✓ no entry removed/m);
    expect(out).toMatch(/multiproof: the entries and proof nodes hash to a root other than the signed root/);
  });

  it("the last entry changed (no successor to name it) → the multiproof fails", async () => {
    const b = structuredClone(full);
    const last = entriesOf(b).at(-1)!;
    last.at = "2020-01-01T00:00:00.000Z";
    expect(await failing("last.json", b)).toMatch(/multiproof: the entries and proof nodes hash to a root other than the signed root/);
  });

  it("one changed byte of a proof node, or a node substituted by another genuine node → the multiproof fails", async () => {
    const at = full.entries.findIndex((e) => typeof e === "string");
    const s = full.entries[at] as string;
    const bytes = Buffer.from(s, "base64");
    bytes[5]! ^= 1;
    const changed = await failing("node-byte.json", { ...full, entries: full.entries.with(at, bytes.toString("base64")) });
    expect(changed).toMatch(/multiproof: the entries and proof nodes hash to a root other than the signed root/);
    const genuine = Buffer.from(s, "base64");
    const otherNode = Buffer.from(late.entries.find((e) => typeof e === "string" && e !== s) as string, "base64").subarray(0, 32);
    otherNode.copy(genuine, 0);
    expect(await failing("node-swap.json", { ...full, entries: full.entries.with(at, genuine.toString("base64")) })).toMatch(
      /multiproof: the entries and proof nodes hash to a root other than/,
    );
  });

  it("a missing, a surplus or an unused proof node, two proof strings in a row, a string that is not base64 → named", async () => {
    const at = full.entries.findIndex((e) => typeof e === "string");
    const s = Buffer.from(full.entries[at] as string, "base64");
    const short = s.length > 32 ? s.subarray(32).toString("base64") : null;
    if (short)
      expect(await failing("node-missing.json", { ...full, entries: full.entries.with(at, short) })).toMatch(
        /multiproof: before entry \d+ .*: the bundle gives \d+, the tree of size \d+ needs \d+ proof nodes?/,
      );
    const surplus = Buffer.concat([s, s.subarray(0, 32)]).toString("base64");
    expect(await failing("node-surplus.json", { ...full, entries: full.entries.with(at, surplus) })).toMatch(
      /the bundle gives \d+, the tree of size \d+ needs \d+ proof node/,
    );
    const dropped = await failing("gap-dropped.json", { ...full, entries: full.entries.toSpliced(at, 1) });
    expect(dropped).toMatch(/the bundle gives none, the tree of size \d+ needs \d+ proof node/);
    // After the checkpoint (the last leaf of the tree) nothing is left to prove.
    expect(await failing("node-unused.json", { ...full, entries: [...full.entries, s.subarray(0, 32).toString("base64")] })).toMatch(
      /after entry \d+: the bundle gives 1, the tree of size \d+ needs no proof nodes/,
    );
    expect(await failing("two-strings.json", { ...full, entries: full.entries.toSpliced(at, 0, full.entries[at]!) })).toMatch(/two proof strings in a row/);
    expect(await failing("not-base64.json", { ...full, entries: full.entries.with(at, "not base64!") })).toMatch(/not base64/);
    expect(await failing("not-an-entry.json", { ...full, entries: [42, ...full.entries] as unknown as Item[] })).toMatch(
      /neither an audit entry .* nor a base64 string/,
    );
  });

  it("a changed root, signature or tree size → the tree head is named; a proof for another tree size fails", async () => {
    const root = structuredClone(full);
    root.tree_head.root_hash = root.tree_head.root_hash.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    const size = structuredClone(full);
    size.tree_head.tree_size += 1;
    const sig = structuredClone(full);
    sig.tree_head.signature = sig.tree_head.signature.replace(/^./, (c) => (c === "A" ? "B" : "A"));
    for (const [name, b] of [
      ["root", root],
      ["size", size],
      ["signature", sig],
    ] as const) {
      const out = await failing(`head-${name}.json`, b);
      expect(out, name).toMatch(/^✗ signed tree head: does not verify/m);
    }
    expect(await failing("head-root2.json", root)).toMatch(/multiproof: the entries and proof nodes hash to a root other than the signed root/);
    // The same entries with a multiproof for the later, larger tree, under the earlier signed head; and the reverse.
    const bigger = await reprove(full, entriesOf(full), late.tree_head.tree_size);
    expect(await failing("other-size.json", bigger)).toMatch(/after entry \d+: the bundle gives \d+, the tree of size \d+ needs no proof nodes/);
    const smaller = { ...structuredClone(late), entries: full.entries };
    expect(await failing("other-size2.json", smaller)).toMatch(
      new RegExp(`after entry \\d+: the bundle gives none, the tree of size ${late.tree_head.tree_size} needs \\d+ proof node`),
    );
  });

  it("a duplicated entry, two entries swapped, an entry moved → entries must be in log order, each once", async () => {
    const all = entriesOf(full);
    const i = all.findIndex((e) => eventId(e) === "e2");
    for (const [name, keep] of [
      ["duplicate", all.toSpliced(i, 0, all[i]!)],
      ["swap", all.with(i, all[i + 1]!).with(i + 1, all[i]!)],
      ["move", [...all.toSpliced(i, 1), all[i]!]],
    ] as const) {
      const out = await failing(`order-${name}.json`, await reprove(full, [...keep]));
      expect(out, name).toMatch(/does not follow entry \d+: entries must be in log order, each once/);
    }
  });

  it("another agent's entry (genuinely in the signed tree, proof re-derived) → named as about another agent", async () => {
    const stranger = entriesOf(otherBundle).find((e) => e.kind === "certificate.issued" && e.index < full.tree_head.tree_size)!;
    const keep = [...entriesOf(full), stranger].sort((a, b) => a.index - b.index);
    const out = await failing("other-agent.json", await reprove(full, keep));
    expect(out).toContain(`entry ${stranger.index} (certificate.issued): entry is about agent "${other}", not ${agent}`);
    expect(out).toMatch(/^✓ signed tree head/m);
  });

  it("another tenant's entry → named as another log's (and it is not a leaf of this tree)", async () => {
    const keep = [foreignEntry, ...entriesOf(full).filter((e) => e.index !== foreignEntry.index)].sort((a, b) => a.index - b.index);
    const out = await failing("other-tenant.json", await reprove(full, keep));
    expect(out).toMatch(
      new RegExp(
        `entry ${foreignEntry.index} \\(${foreignEntry.kind}\\): .*entry belongs to log "${foreignEntry.log as string}", not the signed tenant's ${tenantId}`,
      ),
    );
    expect(out).toMatch(/multiproof: the entries and proof nodes hash to a root other than the signed root/);
  });

  it("an entry text with a duplicated member (parsers would disagree) → not the committed leaf, fails", async () => {
    const text = JSON.stringify({ data: full });
    const e = entriesOf(full).find((x) => eventId(x) === "e2")!;
    const amount = '"amount":73400';
    expect(text.split(amount)).toHaveLength(2);
    const dup = text.replace(amount, `"amount":25,${amount}`);
    // JSON.parse keeps the last copy (the committed 73400), a first-wins parser would read 25: the
    // bytes are not the committed text, so the entry is named and the multiproof fails.
    for (const [name, changed] of [
      ["dup-member.json", dup],
      ["dup-member2.json", text.replace(amount, `${amount},"amount":25`)],
    ] as const) {
      const out = await failing(name, changed);
      expect(out, name).toMatch(
        new RegExp(`^ {4}entry ${e.index} \\(event.ingested\\): its text hashes to leaf [0-9a-f]{16}…, but entry ${e.index + 1} records`, "m"),
      );
      expect(out, name).toMatch(/multiproof: the entries and proof nodes hash to a root other than the signed root/);
    }
  });

  const trims: [string, () => AuditEntryJson[], () => EvidenceBundle][] = [
    ["the first entry", () => without(full, (_e, i) => i === 0), () => full],
    ["a middle entry (event e3)", () => without(full, (e) => eventId(e) === "e3"), () => full],
    ["the last event (e6)", () => without(full, (e) => eventId(e) === "e6"), () => full],
    ["the last entry (the export's checkpoint)", () => without(full, (_e, i, all) => i === all.length - 1), () => full],
    ["the last two entries", () => without(full, (_e, i, all) => i >= all.length - 2), () => full],
    ["the revocation", () => without(full, (e) => e.kind === "certificate.revoked"), () => full],
    ["the risk decision", () => without(full, (e) => e.kind === "risk.decision"), () => full],
    ["every event", () => without(full, (e) => e.kind === "event.ingested"), () => full],
    ["the certificate issuance, from a windowed bundle", () => without(windowed, (e) => e.kind === "certificate.issued"), () => windowed],
    ["an event inside the window (e5)", () => without(windowed, (e) => eventId(e) === "e5"), () => windowed],
    ["the window's opening boundary", () => without(windowed, (e) => eventId(e) === "e3"), () => windowed],
  ];
  for (const [what, keep, from] of trims) {
    it(`deleting ${what}, proof re-derived so every entry left is proven → "no entry removed" fails`, async () => {
      const b = await reprove(from(), keep());
      const r = await verify(`trim-${what.replace(/\W+/g, "-")}.json`, b);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(/^✓ no entry modified/m);
      expect(r.stdout).toMatch(/^✗ no entry removed: /m);
      // Deleted the way jq's del() would (proof strings left as they were): fails too.
      const naive = { ...structuredClone(from()), entries: from().entries.filter((e) => typeof e === "string" || keep().some((k) => k.index === e.index)) };
      const n = await verify(`naive-${what.replace(/\W+/g, "-")}.json`, naive);
      expect(n.code).toBe(1);
      expect(n.stdout).toMatch(/^✗ no entry removed: /m);
    });
  }

  it("an event after the certificate's revocation → the validity check names it; the unsigned revoked_at cannot replace the proven revocation", async () => {
    const r = await verify("late.json", late, "--json");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { checks: { id: string; status: string; failures: { index?: number; reasons: string[] }[] }[] };
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(byId.entries!.status).toBe("pass");
    expect(byId.validity!.status).toBe("fail");
    const lateEntry = entriesOf(late).find((e) => eventId(e) === "after-revocation")!;
    expect(byId.validity!.failures[0]!.index).toBe(lateEntry.index);
    expect(byId.validity!.failures[0]!.reasons[0]).toMatch(new RegExp(`event after-revocation at .* is after certificate ${serial} was revoked`));
    const b = await reprove(
      late,
      entriesOf(late).filter((e) => e.kind !== "certificate.revoked"),
    );
    const out = await failing("no-revocation.json", b);
    expect(out).toContain("has no certificate.revoked entry proving it");
    expect(out).toMatch(/^✗ no entry removed/m);
  });

  it("--since-tree-head: the consistency proof is checked for v3 bundles too", async () => {
    const earlier = (await o.json<{ data: { tree_size: number } }>("GET", "/v1/audit/tree-head")).body;
    const head = write("earlier-head.json", earlier);
    await o.json("POST", "/v1/agents", { body: agentBody({ name: "grows-the-log" }) });
    const later = await bundle(`?since_size=${earlier.data.tree_size}`);
    const ok = await verify("later.json", later, "--since-tree-head", head);
    expect(ok.stdout).toMatch(/^✓ consistent with the earlier tree head: the tree of size \d+ extends the earlier tree/m);
    expect(ok.stdout).toMatch(/^✓ no entry modified/m);
    // (The bundle's one failure is the event received after the revocation, tested above.)
    expect(ok.stdout).toMatch(/^FAILED: 1 of 8 checks failed \(certificate valid at the time of each event\)$/m);
    // The later bundle with its proof taken out (`full` predates the head: evidence-rollback.test.ts).
    const { consistency: _dropped, ...bare } = later;
    const noProof = await verify("no-proof.json", bare, "--since-tree-head", head);
    expect(noProof.code).toBe(1);
    expect(noProof.stdout).toContain("the bundle holds no consistency proof");
  });
});
