/**
 * Someone who controls the origin's database but not its signing key rolls the audit log back (a
 * database restored from a backup taken before the entries they want gone), then exports. The
 * origin signs whatever its database holds, so the bundle verifies on its own; only a tree head
 * the auditor kept from before can show the loss (docs/evidence-format.md, "Consistency with an
 * earlier tree head"). That head is larger than the bundle's tree, so no consistency proof can
 * exist (the origin refuses `since_size` beyond its log, 422). Until 2026-12-07 the verifier then
 * told the auditor "the bundle holds no consistency proof: export it with --since-tree-head", an
 * instruction the origin can only refuse, and never said that the log had shrunk. It now says
 * which of the two heads was signed first and, for a bundle signed after a larger earlier head,
 * that the log lost entries (rolled back or rewritten); for a bundle older than the given head,
 * that the heads are the wrong way round.
 */
import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { kakunin } from "./support/run.ts";

interface Head {
  tree_size: number;
  timestamp: string;
}

describe("a log rolled back below a tree head the auditor kept", () => {
  const work = mkdtempSync(join(tmpdir(), "kakunin-rollback-"));
  const env = { KAKUNIN_CONFIG: join(work, "no-config.json") };
  const file = (name: string, doc: unknown): string => {
    const path = join(work, name);
    writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc));
    return path;
  };
  let earlier: Head;
  let olderBundle = "";
  let rolledBack = "";
  let rolledBackSize = 0;
  let refused = 0;
  let root = "";

  beforeAll(async () => {
    const data = join(work, "data");
    const keys = { env: { KAKUNIN_MASTER_KEY: randomBytes(32).toString("base64") }, adminKey: `test-admin-${randomBytes(8).toString("hex")}` };
    let o: TestOrigin = await startTestOrigin("pglite", { dataDir: data, ...keys });
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "rolled-back" }) })).body.data.id;
    const chain = (await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem;
    root = file("root.pem", chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.at(-1)!);
    olderBundle = file("older.json", await (await o.request("GET", `/v1/agents/${agent}/evidence`)).text());
    await o.close();
    cpSync(data, join(work, "backup"), { recursive: true }); // the backup the insider will restore

    o = await startTestOrigin("pglite", { dataDir: data, ...keys });
    // What the insider wants gone: the agent's certificate and other activity after the backup.
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await o.json("POST", "/v1/agents", { body: agentBody({ name: `later-${i}` }) })).status).toBe(201);
    // The auditor keeps a signed tree head of that log.
    const head = await o.json<{ data: Head }>("GET", "/v1/audit/tree-head");
    earlier = head.body.data;
    file("earlier-head.json", head.body);
    await o.close();

    o = await startTestOrigin("pglite", { dataDir: join(work, "backup"), ...keys }); // restored
    try {
      refused = (await o.request("GET", `/v1/agents/${agent}/evidence?since_size=${earlier.tree_size}`)).status;
      const text = await (await o.request("GET", `/v1/agents/${agent}/evidence`)).text();
      rolledBack = file("rolled-back.json", text);
      rolledBackSize = (JSON.parse(text) as { data: { tree_head: Head } }).data.tree_head.tree_size;
    } finally {
      await o.close();
    }
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("the bundle exported after the rollback verifies on its own, and the origin cannot prove consistency (422)", async () => {
    expect(rolledBackSize).toBeLessThan(earlier.tree_size);
    expect(refused).toBe(422);
    const alone = await kakunin(env, "audit", "verify", rolledBack, "--root", root);
    expect(alone.code, alone.stdout + alone.stderr).toBe(0);
  });

  it("--since-tree-head with the larger, earlier-signed head: fails saying the log lost entries, not 'export it with --since-tree-head'", async () => {
    const r = await kakunin(env, "audit", "verify", rolledBack, "--root", root, "--since-tree-head", join(work, "earlier-head.json"));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^✗ consistent with the earlier tree head: /m);
    expect(r.stdout).not.toContain("export it with --since-tree-head");
    expect(r.stdout).toContain(
      `the earlier tree head (signed ${earlier.timestamp}) commits to ${earlier.tree_size} entries, but the bundle's tree, signed after it, has only ${rolledBackSize}: ` +
        `the log lost entries ${rolledBackSize}..${earlier.tree_size - 1} (rolled back, e.g. a database restored from a backup, or rewritten)`,
    );
  });

  it("a bundle older than the given head: fails saying the heads are the wrong way round", async () => {
    const r = await kakunin(env, "audit", "verify", olderBundle, "--root", root, "--since-tree-head", join(work, "earlier-head.json"));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).not.toContain("export it with --since-tree-head");
    expect(r.stdout).toContain(`the given tree head (size ${earlier.tree_size}, signed ${earlier.timestamp}) is newer than the bundle's tree head`);
  });

  it("the bundle's own tree head as the earlier one: the same tree, consistent without a proof", async () => {
    const r = await kakunin(env, "audit", "verify", rolledBack, "--root", root, "--since-tree-head", rolledBack);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^✓ consistent with the earlier tree head: /m);
  });
});
