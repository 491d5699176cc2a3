/** Steps 8–9: the evidence bundle leaves the system and is checked by someone who trusts none of it. */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { admin, type Agent, type Ctx } from "./context.ts";
import { c } from "./output.ts";
import { check, expectStatus, pollUntil, StepFailure } from "./runner.ts";

/** An audit entry as kakunin-evidence/3 carries it: the canonical entry itself. */
interface Entry {
  index: number;
  kind: string;
  data: { event?: { amount?: number } };
}

/** `entries` holds the audit entries and, between them, the base64 strings of the shared proof. */
interface Bundle {
  format: string;
  tree_head: { tree_size: number; root_hash: string };
  entries: (Entry | string)[];
  certificates: { serial_number: string; status: string }[];
}

const auditEntries = (b: Bundle): Entry[] => b.entries.filter((e): e is Entry => typeof e !== "string");

/** Events the origin has stored for the agent (all pages). */
async function storedEvents(ctx: Ctx, agentId: string): Promise<number> {
  let n = 0;
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page = expectStatus(await admin<{ data: unknown[]; next_cursor: string | null }>(ctx, "GET", `/v1/agents/${agentId}/events?limit=200${q}`), 200, "GET /v1/agents/:id/events");
    n += page.data.length;
    cursor = page.next_cursor;
  } while (cursor);
  return n;
}

function kinds(entries: Entry[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of entries) m.set(e.kind, (m.get(e.kind) ?? 0) + 1);
  return m;
}

export function exportEvidence(ctx: Ctx, agent: Agent, accepted: number): Promise<{ file: string; bundle: Bundle; rootFile: string }> {
  return ctx.run.step("Export the evidence bundle", async () => {
    // The edge's Durable Object forwards events to the origin in the background: wait for all.
    const t0 = performance.now();
    await pollUntil(async () => ((await storedEvents(ctx, agent.id)) >= accepted ? true : undefined),
      { timeoutMs: 30_000, everyMs: 200, what: `all ${accepted} accepted events stored at the origin` });
    const waited = Math.round(performance.now() - t0);
    // The body as text: v3 entries are the exact bytes that were hashed, so the file must be the
    // response byte for byte (re-serialising parsed JSON could reorder or reformat them).
    const res = await fetch(`${ctx.origin.url}/v1/agents/${agent.id}/evidence`, { headers: { authorization: `Bearer ${ctx.adminKey}` } });
    const text = await res.text();
    check(res.status === 200, `GET /v1/agents/${agent.id}/evidence answered ${res.status}: ${text.slice(0, 300)}`);
    const bundle = (JSON.parse(text) as { data: Bundle }).data;
    const byKind = kinds(auditEntries(bundle));
    check(byKind.get("event.ingested") === accepted, `the bundle should hold ${accepted} events, holds ${byKind.get("event.ingested") ?? 0}`);
    check((byKind.get("certificate.revoked") ?? 0) >= 1, "the bundle should hold the revocation");
    const file = join(ctx.dataDir, `evidence-${agent.id}.json`);
    // Saved exactly as the API answered: `kakunin audit verify` reads the enveloped body as is.
    writeFileSync(file, text);
    // The verifier's trust anchor: the root CA, taken from the origin the operator runs (as
    // `kakunin init` saves it), never from the bundle itself.
    const ca = expectStatus(await admin<{ data: { root: { certificate_pem: string } } }>(ctx, "GET", "/v1/ca"), 200, "GET /v1/ca").data;
    const rootFile = join(ctx.dataDir, "root-ca.pem");
    writeFileSync(rootFile, ca.root.certificate_pem);
    const summary = [...byKind].sort((x, y) => y[1] - x[1]).map(([k, n]) => `${n} ${k}`).join(", ");
    return {
      value: { file, bundle, rootFile },
      facts: [
        `origin holds all ${accepted} events (${waited} ms of waiting for the edge's background forwarding)`,
        `${auditEntries(bundle).length} entries: ${summary}`,
        `signed tree head: size ${bundle.tree_head.tree_size}, root ${bundle.tree_head.root_hash.slice(0, 16)}…; saved to ${file}`,
      ],
    };
  });
}

/** `kakunin audit verify <file>` as its own process: the verifier shares nothing with the origin. */
function auditVerify(root: string, file: string, rootPem: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const args = [join(root, "cli/bin/kakunin.mjs"), "audit", "verify", file, "--root", rootPem];
    // No config file: the demo pins the root explicitly, whatever the user's own CLI config says.
    const env = { ...process.env, KAKUNIN_CONFIG: join(root, ".kakunin-demo-no-config.json") };
    const p = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.stderr.on("data", (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** A copy with one burst transfer's amount rewritten, as someone hiding it would. */
function tampered(bundle: Bundle, file: string): { file: string; what: string } | undefined {
  const copy = structuredClone(bundle);
  const target = auditEntries(copy).find((e) => e.kind === "event.ingested" && e.data.event?.amount === 250000);
  if (!target) return undefined;
  target.data.event!.amount = 25;
  const out = file.replace(/\.json$/, ".tampered.json");
  writeFileSync(out, JSON.stringify({ data: copy }));
  return { file: out, what: `entry ${target.index}: transfer amount 250000 → 25` };
}

/** A copy with the revocation deleted, as someone hiding it would (`jq 'del(…)'`). */
function trimmed(bundle: Bundle, file: string): string {
  const copy = structuredClone(bundle);
  copy.entries = copy.entries.filter((e) => typeof e === "string" || e.kind !== "certificate.revoked");
  const out = file.replace(/\.json$/, ".trimmed.json");
  writeFileSync(out, JSON.stringify({ data: copy }));
  return out;
}

export function verifyEvidence(ctx: Ctx, exported: { file: string; bundle: Bundle; rootFile: string }): Promise<void> {
  return ctx.run.step("Verify the evidence offline (kakunin audit verify --root)", async () => {
    const r = await auditVerify(ctx.root, exported.file, exported.rootFile);
    const lines = r.out.split("\n").filter((l) => l.trim() !== "");
    if (r.code !== 0) throw new StepFailure(`kakunin audit verify exited ${r.code}:\n${lines.map((l) => `      ${l}`).join("\n")}`);
    const fake = tampered(exported.bundle, exported.file);
    check(fake !== undefined, "no burst transfer event in the bundle to tamper with");
    const t = await auditVerify(ctx.root, fake.file, exported.rootFile);
    check(t.code === 1, `a tampered bundle must fail verification (exit 1), got exit ${t.code}`);
    const caught = t.out.split("\n").find((l) => l.startsWith("✗")) ?? "✗ (no failing check printed)";
    const cut = await auditVerify(ctx.root, trimmed(exported.bundle, exported.file), exported.rootFile);
    check(cut.code === 1, `a bundle without its revocation must fail verification (exit 1), got exit ${cut.code}`);
    const missing = cut.out.split("\n").find((l) => l.startsWith("✗ no entry removed")) ?? "✗ (no failing check printed)";
    return {
      value: undefined,
      facts: [
        ...lines.slice(1).map((l) => (l.startsWith("✓") ? c.green(l) : l)),
        `kakunin audit verify: exit 0, ${c.green("verified")}`,
        `a tampered copy (${fake.what}) is rejected (exit 1): ${caught}`,
        `a trimmed copy (the revocation deleted) is rejected (exit 1): ${missing}`,
      ],
    };
  });
}
