import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalArchive } from "../../origin/src/archive/local.ts";
import { Archiver } from "../../origin/src/audit/archiver.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { kakunin } from "./support/run.ts";

interface Report {
  ok: boolean;
  tenant_id: string;
  entries: number;
  proven_size: number;
  checks: { id: string; status: string; failures: { subject: string; reasons: string[] }[]; notes: string[] }[];
}

// The compliance officer's question: from the WORM objects alone (and the signed tree heads archived
// beside them), can anyone prove that nothing of the audit log was removed or changed? Before
// `kakunin audit check-archive` nothing in the product checked an archive: only the fault drills'
// test helper did. The archive here is the local store's directory, laid out exactly as the S3
// keys (`aws s3 cp --recursive s3://<bucket>/audit/<tenant>/ DIR` gives the same tree).
describe("kakunin audit check-archive on a real origin's archive", () => {
  let o: TestOrigin;
  let work = "";
  let archived = "";
  let tenant = "";
  const env = (): Record<string, string> => ({ KAKUNIN_CONFIG: join(work, "no-config.json") });
  const files = (): { chain: string; root: string } => ({ chain: join(work, "chain.pem"), root: join(work, "root.pem") });

  /** A writable copy of the tenant's archive (the store's files are read-only). */
  const copy = (name: string): string => {
    const to = join(work, name);
    cpSync(archived, to, { recursive: true });
    for (const f of readdirSync(to, { recursive: true }).map(String)) chmodSync(join(to, f), f.includes(".") ? 0o644 : 0o755);
    return to;
  };
  const batches = (dir: string): string[] =>
    readdirSync(dir)
      .filter((f) => f.endsWith(".jsonl"))
      .sort();
  const check = async (dir: string, ...extra: string[]): Promise<{ code: number; report: Report; stdout: string }> => {
    const r = await kakunin(env(), "audit", "check-archive", dir, "--chain", files().chain, "--root", files().root, "--json", ...extra);
    if (r.code !== 0 && r.code !== 1) throw new Error(`exit ${r.code}: ${r.stderr}`);
    return { code: r.code, report: JSON.parse(r.stdout) as Report, stdout: r.stdout };
  };
  const failing = (r: Report): string[] => r.checks.flatMap((c) => c.failures.flatMap((f) => f.reasons.map((x) => `${c.id}: ${f.subject}: ${x}`)));

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "kakunin-cli-archive-"));
    o = await startTestOrigin("pglite");
    tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const store = createLocalArchive(join(work, "store"));
    const archiver = new Archiver(o.services, store, { batchSize: 3, maxAgeMs: 0, log: () => undefined });
    // Several rounds, so there are several objects and several signed heads of different sizes.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) expect((await o.json("POST", "/v1/agents", { body: agentBody({ name: `archived-${round}-${i}` }) })).status).toBe(201);
      expect((await o.json("GET", "/v1/audit/tree-head")).status).toBe(200);
      expect((await archiver.runOnce()).failed).toBe(0);
    }
    archived = join(work, "store", "audit", tenant);
    const chain = (await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem;
    writeFileSync(files().chain, chain);
    writeFileSync(files().root, chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.at(-1)!);
  });
  afterAll(async () => {
    await o?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("the untouched archive verifies: contiguous, hash-chained, every signed head reproduced (exit 0)", async () => {
    const { code, report } = await check(archived);
    expect(failing(report)).toEqual([]);
    expect(code).toBe(0);
    expect(report.tenant_id).toBe(tenant);
    const size = (await o.json<{ data: { tree_size: number } }>("GET", "/v1/audit/tree-head")).body.data.tree_size;
    expect(report.entries).toBe(size);
    expect(report.proven_size).toBe(size);
    const text = await kakunin(env(), "audit", "check-archive", archived, "--chain", files().chain, "--root", files().root);
    expect(text.stdout).toContain(`VERIFIED: entries 0..${size - 1} of tenant ${tenant}`);
  });

  it("an object replaced by other bytes (a new version on top of the locked one) fails: the signed root is not reproduced", async () => {
    const dir = copy("replaced");
    const last = join(dir, batches(dir).at(-1)!);
    // The last line: no later entry's `prev` would notice, only the signed root can.
    const lines = readFileSync(last, "utf8").slice(0, -1).split("\n");
    lines[lines.length - 1] = lines[lines.length - 1]!.replace(/"name":"[^"]*"/, '"name":"someone else"');
    writeFileSync(last, `${lines.join("\n")}\n`);
    const { code, report } = await check(dir);
    expect(code).toBe(1);
    expect(failing(report).join("\n")).toMatch(
      /tree_heads: tree head \d{12}-[0-9a-f]{16}\.json: the archived entries 0\.\.\d+ do not reproduce its signed root/,
    );
  });

  it("an object whose bytes are not the ones its key names, and a second object for the same entries, are named", async () => {
    const dir = copy("two-histories");
    const [, second] = batches(dir) as [string, string];
    const text = readFileSync(join(dir, second), "utf8");
    // Another history of the same entries beside the original, as after a database restore.
    writeFileSync(join(dir, second.replace(/-[0-9a-f]{16}\.jsonl$/, "-0000000000000000.jsonl")), text.replace(/"name":"[^"]*"/, '"name":"regrown"'));
    const { code, report } = await check(dir);
    expect(code).toBe(1);
    const all = failing(report).join("\n");
    expect(all).toContain("two histories of the log (a database restored from a backup) or a planted object");
    expect(all).toContain("its content's SHA-256 is not the 0000000000000000… its key names");
  });

  it("an object removed from the middle (a delete marker hides it) is a gap", async () => {
    const dir = copy("gap");
    const victim = batches(dir)[1]!;
    rmSync(join(dir, victim));
    const { code, report } = await check(dir);
    expect(code).toBe(1);
    const [first, last] = victim.replace(".jsonl", "").split("-").map(Number) as [number, number];
    expect(failing(report).join("\n")).toContain(`entries ${first}..${last} are in no object: removed`);
  });

  it("a truncated object stops the proof there; the object after a gap is not blamed for the gap's missing link", async () => {
    const dir = copy("truncated");
    const [first, second] = batches(dir) as [string, string];
    const text = readFileSync(join(dir, first), "utf8");
    writeFileSync(join(dir, first), text.slice(0, text.indexOf("\n") + 1)); // one line of several
    rmSync(join(dir, batches(dir).at(-2)!)); // and a gap further on
    const { code, report } = await check(dir);
    expect(code).toBe(1);
    const all = failing(report);
    expect(all.join("\n")).toContain(`object ${first}: holds 1 lines`);
    expect(all.filter((f) => f.includes(second))).toEqual([]);
    expect(all.filter((f) => f.includes("prev does not chain"))).toEqual([]);
    expect(report.entries).toBe(0); // nothing proven past a broken object
  });

  it("the newest object removed: a note while the head is recent, a failure once it is older than --max-lag", async () => {
    const dir = copy("tail");
    rmSync(join(dir, batches(dir).at(-1)!));
    const recent = await check(dir);
    expect(recent.code).toBe(0);
    expect(recent.report.checks.find((c) => c.id === "tree_heads")!.notes.join("\n")).toContain("are not archived yet");
    const strict = await check(dir, "--max-lag", "0");
    expect(strict.code).toBe(1);
    expect(failing(strict.report).join("\n")).toContain("were removed from the archive");
  });

  // Delete markers are allowed under COMPLIANCE, on tree heads as on batches: hiding the newest
  // objects AND every head that reaches them leaves an archive that is whole up to an earlier
  // size, and nothing in it says more existed. Only a head kept outside the archive can (a
  // bundle's tree_head, GET /v1/audit/tree-head): `--tree-head FILE` makes the archive answer it.
  it("the tail trimmed with the heads that reach it: undetectable from the archive alone, a failure against a head the auditor kept (--tree-head)", async () => {
    const dir = copy("tail-and-heads");
    const held = join(work, "held-head.json");
    const newest = readdirSync(join(dir, "tree-heads"))
      .filter((f) => /^\d{12}-[0-9a-f]{16}\.json$/.test(f))
      .sort()
      .at(-1)!;
    writeFileSync(held, JSON.stringify({ data: JSON.parse(readFileSync(join(dir, "tree-heads", newest), "utf8")) as unknown }));
    const victim = batches(dir).at(-1)!;
    rmSync(join(dir, victim));
    const kept = Number(victim.slice(0, 12));
    for (const f of readdirSync(join(dir, "tree-heads"))) if (Number(f.slice(0, 12)) > kept) rmSync(join(dir, "tree-heads", f));
    const alone = await check(dir, "--max-lag", "0");
    expect(alone.code).toBe(0); // all the archive can say: entries 0..kept-1 are whole
    const strict = await check(dir, "--max-lag", "0", "--tree-head", held);
    expect(strict.code).toBe(1);
    expect(failing(strict.report).join("\n")).toMatch(
      new RegExp(
        `tree_heads: tree head --tree-head ${held.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: signed .*, but the archive holds ${kept} contiguous ones: entries ${kept}\\.\\.\\d+ were removed`,
      ),
    );
    const recent = await check(dir, "--tree-head", held);
    expect(recent.code).toBe(0);
    expect(recent.report.checks.find((c) => c.id === "tree_heads")!.notes.join("\n")).toContain("are not archived yet");
    // The untouched archive reproduces the held head; a held head it contradicts is a fork.
    expect((await check(archived, "--max-lag", "0", "--tree-head", held)).code).toBe(0);
    const forked = join(work, "forked-head.json");
    writeFileSync(forked, JSON.stringify({ data: { ...(JSON.parse(readFileSync(held, "utf8")) as { data: object }).data, root_hash: "ab".repeat(32) } }));
    const fork = await check(archived, "--tree-head", forked);
    expect(fork.code).toBe(1);
    expect(failing(fork.report).join("\n")).toContain("the signature does not verify");
    const notAHead = join(work, "not-a-head.json");
    writeFileSync(notAHead, JSON.stringify({ data: { tree_size: 3 } }));
    const unreadable = await check(archived, "--tree-head", notAHead);
    expect(unreadable.code).toBe(1);
    expect(failing(unreadable.report).join("\n")).toContain("not a signed tree head");
  });

  it("a tree head not signed by the tenant's audit key, or a root not pinned, fails", async () => {
    const dir = copy("forged-head");
    const headFile = join(
      dir,
      "tree-heads",
      readdirSync(join(dir, "tree-heads"))
        .filter((f) => f.endsWith(".json") && !f.endsWith(".meta.json"))
        .sort()[0]!,
    );
    const head = JSON.parse(readFileSync(headFile, "utf8")) as { timestamp: string };
    writeFileSync(headFile, JSON.stringify({ ...head, timestamp: new Date(Date.parse(head.timestamp) + 1000).toISOString() }));
    const forged = await check(dir);
    expect(forged.code).toBe(1);
    expect(failing(forged.report).join("\n")).toContain("the signature does not verify");

    const other = join(work, "other-root.pem");
    writeFileSync(other, readFileSync(files().chain, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)![0]!);
    const r = await kakunin(env(), "audit", "check-archive", archived, "--chain", files().chain, "--root", other, "--json");
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as Report).checks.find((c) => c.id === "chain")!.status).toBe("fail");
  });

  it("usage: --chain is required (exit 2); a missing directory is an I/O error (exit 2)", async () => {
    const noChain = await kakunin(env(), "audit", "check-archive", archived);
    expect(noChain.code).toBe(2);
    expect(noChain.stderr).toContain("--chain is required");
    const missing = await kakunin(env(), "audit", "check-archive", join(work, "nope"), "--chain", files().chain, "--root", files().root);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such directory");
  });
});
