import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil, startSystem, systemFixture, type RunningSystem } from "../../test/support/system.ts";
import { kakunin, parsed, type Run } from "./support/run.ts";

interface Agent { id: string; urn: string; name: string; status: string; model: { name: string; version: string; hash: string }; scopes: string[] }
interface Issued { id: string; serial_number: string; certificate_pem: string; expires_at: string; status: string }
interface Verdict { valid: boolean; status: string; agent_id: string; not_before: string; model: { hash: string }; reasons: { code: string }[]; risk: { band: string } }
interface Summary {
  events: number; batches: number; sent: number; accepted: number; duplicates: number; rejected_events: number;
  rejected_batches: { batch: number; first_line: number; last_line: number; status: number; detail: string; errors: { line: number | null; path: string }[] }[];
  bands: { low: number; medium: number; high: number };
  highest: { event_id: string; line: number; score: number; band: string; top_reasons: { feature: string; contribution: number }[] } | null;
  stopped: { reason: string; unsent_events: number } | null;
}
interface Risk { agent_id: string; score: number; band: string; events_scored: number }

/**
 * A trading agent's routine: quotes and orders of ~100 EUR (as in the e2e ingest test), `stepMs`
 * apart. Timestamps must fall inside the certificate's validity, or the evidence bundle rightly
 * reports events the certificate did not cover.
 */
function traffic(n: number, startMs: number, stepMs: number, prefix: string): string {
  return Array.from({ length: n }, (_, i) => {
    const place = i % 3 === 0;
    return JSON.stringify({
      event_id: `${prefix}-${i}`, timestamp: new Date(startMs + i * stepMs).toISOString(), type: "tool_call", action: place ? "orders.place" : "orders.quote",
      resource: "instrument/EURUSD", ...(place ? { amount: 90 + ((i * 37) % 25), currency: "EUR" } : {}), outcome: i % 50 === 7 ? "error" : "success", latency_ms: 80 + (i % 7) * 5,
    });
  }).join("\n") + "\n";
}

/** Every command against the real origin and the real edge (wrangler dev), run as a user runs them. */
describe("kakunin against a running system", () => {
  const fx = systemFixture();
  const dir = mkdtempSync(join(tmpdir(), "kakunin-cli-cmd-"));
  let sys: RunningSystem;
  let env: Record<string, string> = {};
  const cli = (...args: string[]) => kakunin(env, ...args);
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const expectExit = (r: Run, code: number) => expect(r.code, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(code);
  const riskOf = async (id: string) => {
    const r = await cli("risk", id, "--json");
    expectExit(r, 0);
    return parsed<Risk>(r);
  };
  const storedEvents = async (agent: string) => {
    const all: { event_id: string; score: number; band: "low" | "medium" | "high" }[] = [];
    let cursor: string | null = null;
    do {
      const res = await fetch(`${sys.origin.url}/v1/agents/${agent}/events?limit=200${cursor ? `&cursor=${cursor}` : ""}`, { headers: { authorization: `Bearer ${fx.adminKey}` } });
      const page = (await res.json()) as { data: typeof all; next_cursor: string | null };
      all.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    return all;
  };

  let modelHash = "";
  let agent: Agent;
  let other: Agent;
  let cert: Issued;
  let token = "";
  let validFrom = 0;
  /** A few events in the last seconds (always after the certificate's notBefore). */
  const recent = (n: number, prefix: string) => traffic(n, Date.now() - (n + 2) * 500, 500, prefix);

  beforeAll(async () => {
    sys = await startSystem(fx, { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1", KAKUNIN_WEBHOOK_BACKOFF_MS: "50" });
    env = { KAKUNIN_CONFIG: join(dir, "config.json"), KAKUNIN_ORIGIN_URL: sys.origin.url, KAKUNIN_EDGE_URL: sys.edge.url, KAKUNIN_API_KEY: fx.adminKey };
    // 1200 events squeezed into the seconds since certification look like a burst; the test is
    // about the CLI, so a high score must flag the agent, not revoke its certificate mid-run.
    const policy = await fetch(`${sys.origin.url}/v1/tenant/policy`, {
      method: "PATCH", headers: { authorization: `Bearer ${fx.adminKey}`, "content-type": "application/json" }, body: JSON.stringify({ auto_revoke: false }),
    });
    expect(policy.status).toBe(200);
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
    fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("agents create (flags, --model-file, --file), list (table, pages, --all) and get", async () => {
    const weights = randomBytes(4096);
    modelHash = `sha256:${createHash("sha256").update(weights).digest("hex")}`;
    const created = await cli("agents", "create", "--name", "trading-bot-7f3a", "--model-name", "gpt-4o", "--model-version", "2024-08-06",
      "--model-file", file("weights.bin", weights.toString("binary")), "--owner-name", "Alice Risk", "--owner-email", "alice@bank.example",
      "--scope", "orders.*", "--scope", "crm.lookup_customer", "--json");
    expectExit(created, 0);
    agent = parsed<Agent>(created);
    expect(agent).toMatchObject({ urn: `urn:kakunin:agent:${agent.id}`, name: "trading-bot-7f3a", status: "active", scopes: ["orders.*", "crm.lookup_customer"] });
    expect(agent.model).toEqual({ name: "gpt-4o", version: "2024-08-06", hash: `sha256:${createHash("sha256").update(readFileSync(join(dir, "weights.bin"))).digest("hex")}` });
    modelHash = agent.model.hash;

    const body = { name: "from-file", model: { name: "claude", version: "3", hash: `sha256:${"cd".repeat(32)}` }, owner: { name: "Bob", email: "bob@bank.example" }, scopes: ["crm.*"] };
    const fromFile = await cli("agents", "create", "--file", file("agent.json", JSON.stringify(body)), "--name", "override");
    expectExit(fromFile, 0);
    expect(fromFile.stdout).toMatch(/^name\s+override$/m);
    expect(fromFile.stdout).toMatch(/^scopes\s+crm\.\*$/m);
    const otherId = /^id\s+(\S+)$/m.exec(fromFile.stdout)![1]!;

    const all = await cli("agents", "list", "--limit", "1", "--all", "--json");
    expectExit(all, 0);
    expect(parsed<{ data: Agent[]; next_cursor: null }>(all)).toMatchObject({ data: [{ id: agent.id }, { id: otherId }], next_cursor: null });
    const page = await cli("agents", "list", "--limit", "1");
    expectExit(page, 0);
    const rows = page.stdout.split("\n").map((l) => l.split(/ {2,}/));
    expect(rows[0]).toEqual(["ID", "NAME", "STATUS", "MODEL", "CREATED"]);
    expect(rows[1]).toEqual([agent.id, "trading-bot-7f3a", "active", "gpt-4o 2024-08-06", expect.stringMatching(/^\d{4}-\d\d-\d\dT/)]);
    // Columns line up: every row starts its NAME column at the same offset.
    expect(page.stdout.split("\n")[1]!.indexOf("trading-bot-7f3a")).toBe(page.stdout.indexOf("NAME"));
    expect(page.stdout).toMatch(/^more: kakunin agents list --cursor \S+$/m);

    const got = await cli("agents", "get", otherId, "--json");
    expectExit(got, 0);
    other = parsed<Agent>(got);
    expect(other).toMatchObject({ id: otherId, name: "override", model: body.model, scopes: ["crm.*"] });
  });

  it("renew → a successor while the old certificate overlaps; agents list --expiring shows what to renew", async () => {
    const first = await cli("certify", other.id, "--json");
    expectExit(first, 0);
    const old = parsed<Issued>(first);
    const r = await cli("renew", other.id, "--overlap", "15m", "--json");
    expectExit(r, 0);
    const renewed = parsed<Issued & { predecessor: { serial_number: string; superseded_at: string }; overlap_seconds: number }>(r);
    expect(renewed).toMatchObject({ status: "active", overlap_seconds: 900, predecessor: { serial_number: old.serial_number } });
    expect(renewed.serial_number).not.toBe(old.serial_number);
    const text = await cli("renew", other.id);
    expectExit(text, 0);
    expect(text.stdout).toMatch(new RegExp(`^replaces\\s+${renewed.serial_number}$`, "m"));
    expectExit(await cli("renew", other.id, "--overlap", "soon"), 2);
    const soon = await cli("agents", "list", "--expiring", "400d");
    expectExit(soon, 0);
    expect(soon.stdout.split("\n")[0]!.split(/ {2,}/)).toEqual(["ID", "NAME", "SERIAL", "EXPIRES"]);
    expect(soon.stdout).toContain(other.id);
    const none = await cli("agents", "list", "--expiring", "1d", "--json");
    expectExit(none, 0);
    expect(parsed<{ data: Agent[] }>(none).data.find((x) => x.id === other.id)).toBeUndefined();
  });

  it("certify → verify valid at the edge (exit 0), with the gateway's model and scope checks (exit 1 on mismatch)", async () => {
    const pem = join(dir, "cert.pem");
    const r = await cli("certify", agent.id, "--out", pem, "--json");
    expectExit(r, 0);
    cert = parsed<Issued>(r);
    expect(cert).toMatchObject({ status: "active", serial_number: expect.stringMatching(/^[0-9a-f]{16,40}$/) });
    expect(readFileSync(pem, "utf8")).toBe(cert.certificate_pem);
    expect(cert.certificate_pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    // The edge learns of the certificate within moments; until then verify says unknown (exit 3).
    await pollUntil(async () => ((await cli("verify", cert.serial_number)).code === 0 ? true : undefined), 20_000, 100);
    const v = await cli("verify", cert.serial_number, "--json");
    expectExit(v, 0);
    const verdict = parsed<Verdict>(v);
    expect(verdict).toMatchObject({ valid: true, status: "active", agent_id: agent.id, model: { hash: modelHash }, reasons: [], risk: { band: "low" } });
    validFrom = Date.parse(verdict.not_before);
    const human = await cli("verify", cert.serial_number, "--model-hash", modelHash, "--scope", "orders.place", "--scope", "crm.lookup_customer");
    expectExit(human, 0);
    expect(human.stdout).toMatch(/^✓ valid\nserial\s+[0-9a-f]+\nstatus\s+active\n/);
    const scope = await cli("verify", cert.serial_number, "--scope", "payments.transfer");
    expectExit(scope, 1);
    expect(scope.stdout).toMatch(/^✗ not valid\n/);
    expect(scope.stdout).toContain("  - scope_not_granted: 'payments.transfer' is not covered by the agent's scopes");
    const model = await cli("verify", cert.serial_number, "--model-hash", `sha256:${"00".repeat(32)}`, "--json");
    expectExit(model, 1);
    expect(parsed<Verdict>(model).reasons.map((x) => x.code)).toEqual(["model_hash_mismatch"]);
  });

  it("tokens create: --quiet prints the token alone, --json its fields, --ttl bounds its life", async () => {
    const quiet = await cli("tokens", "create", agent.id, "-q");
    expectExit(quiet, 0);
    expect(quiet.stdout).toMatch(/^\S{40,}\n$/);
    token = quiet.stdout.trim();
    const j = await cli("tokens", "create", agent.id, "--ttl", "2m", "--json");
    expectExit(j, 0);
    const t = parsed<{ token: string; expires_at: string; agent_id: string; serial_number: string }>(j);
    expect(t).toMatchObject({ agent_id: agent.id, serial_number: cert.serial_number });
    expect(Date.parse(t.expires_at) - Date.now()).toBeGreaterThan(60_000);
    expect(Date.parse(t.expires_at) - Date.now()).toBeLessThanOrEqual(120_000);
    const human = await cli("tokens", "create", agent.id);
    expect(human.stdout).toMatch(/^token\s+\S+\nexpires_at\s+\d{4}-/);
  });

  it("events send: 1200 events in batches, a summary that matches what the origin stored, resend = duplicates", async () => {
    const start = validFrom + 1000;
    const path = file("day.jsonl", traffic(1200, start, Math.floor((Date.now() - 3000 - start) / 1200), "n"));
    const r = await cli("events", "send", path, "--token", token, "--json");
    expectExit(r, 0);
    expect(r.stderr).toBe("");
    const s = parsed<Summary>(r);
    expect(s).toMatchObject({ events: 1200, batches: 3, sent: 1200, accepted: 1200, duplicates: 0, rejected_events: 0, rejected_batches: [], stopped: null });
    expect(s.bands.low + s.bands.medium + s.bands.high).toBe(1200);
    expect(s.highest!.event_id).toBe(`n-${s.highest!.line - 1}`);
    // The summary's numbers are the edge's: the origin stores the same scores once forwarded.
    const stored = (await pollUntil(async () => {
      const e = await storedEvents(agent.id);
      return e.length >= 1200 ? e : undefined;
    }, 60_000, 500)).value;
    expect(stored).toHaveLength(1200);
    const bands = { low: 0, medium: 0, high: 0 };
    for (const e of stored) bands[e.band]++;
    expect(s.bands).toEqual(bands);
    expect(s.highest!.score).toBe(Math.max(...stored.map((e) => e.score)));
    const contributions = s.highest!.top_reasons.map((x) => x.contribution);
    expect(contributions).toEqual([...contributions].sort((a, b) => b - a));

    // Sent again, minting the token from the API key, in the human format, other batch size.
    const again = await cli("events", "send", path, "--agent", agent.id, "--batch", "400");
    expectExit(again, 0);
    expect(again.stdout).toMatch(/^events\s+1200 in 3 batches\nsent\s+1200\naccepted\s+0\nduplicates\s+1200\nrejected\s+0 events in 0 batches\nbands\s+low \d+, medium \d+, high \d+\nhighest\s+\d\.\d{3} \((low|medium|high)\), event n-\d+ on line \d+$/m);
    expect(again.stderr).toMatch(/^(kakunin: sent \d+\/1200 events\n)*$/);
    expect((await riskOf(agent.id)).events_scored).toBe(1200);
  });

  it("risk: score, band and events scored, with a minted token or a given one", async () => {
    const j = await riskOf(agent.id);
    expect(j).toMatchObject({ agent_id: agent.id, events_scored: 1200, band: expect.stringMatching(/^(low|medium|high)$/) });
    const human = await cli("risk", agent.id, "--token", token);
    expectExit(human, 0);
    expect(human.stdout).toMatch(/^agent\s+\S+\nscore\s+\d\.\d{3}\nband\s+(low|medium|high)\nevents scored\s+1200\n/);
    const wrongAgent = await cli("risk", other.id, "--token", token);
    expectExit(wrongAgent, 3);
    // Another agent is 404 to a token, as a missing one is (the edge's answer since 8105510).
    expect(wrongAgent.stderr).toContain(`Not found (404): No agent ${other.id}`);
  });

  it("credentials create/list/revoke; a runtime holding only its credential mints tokens and reads its risk, nothing else", async () => {
    const created = await cli("credentials", "create", agent.id, "--name", "runtime-1", "-q");
    expectExit(created, 0);
    const credential = created.stdout.trim();
    expect(credential).toMatch(/^kka_[A-Za-z0-9_-]{43}$/);
    // The runtime's environment: the credential, no API key, no config file.
    const runtime = { KAKUNIN_CONFIG: join(dir, "runtime-config.json"), KAKUNIN_ORIGIN_URL: sys.origin.url, KAKUNIN_EDGE_URL: sys.edge.url, KAKUNIN_AGENT_CREDENTIAL: credential };
    const minted = await kakunin(runtime, "tokens", "create", agent.id, "--json");
    expectExit(minted, 0);
    expect(parsed<{ agent_id: string }>(minted).agent_id).toBe(agent.id);
    expectExit(await kakunin(runtime, "risk", agent.id, "--json"), 0);
    const recertify = await kakunin({ ...runtime, KAKUNIN_API_KEY: credential }, "certify", agent.id);
    expectExit(recertify, 3);
    expect(recertify.stderr).toContain("403");
    expectExit(await kakunin(runtime, "tokens", "create", other.id), 3);

    const list = await cli("credentials", "list", agent.id, "--json");
    expectExit(list, 0);
    const rows = parsed<{ id: string; name: string; revoked_at: string | null }[]>(list);
    expect(rows.map((r) => [r.name, r.revoked_at])).toEqual([["runtime-1", null]]);
    expect(list.stdout).not.toContain(credential);
    const revoked = await cli("credentials", "revoke", agent.id, rows[0]!.id, "--json");
    expectExit(revoked, 0);
    expect(parsed<{ revoked_at: string }>(revoked).revoked_at).toMatch(/^\d{4}-/);
    const after = await kakunin(runtime, "tokens", "create", agent.id);
    expectExit(after, 3);
    expect(after.stderr).toContain("401");
    expectExit(await cli("credentials", "revoke", agent.id, rows[0]!.id), 3);
  });

  it("a malformed line is reported with its number and nothing is sent (exit 2)", async () => {
    const good = recent(5, "m").trim().split("\n");
    const broken = [...good.slice(0, 2), "{\"event_id\": \"m-x\",", ...good.slice(2)].join("\n");
    const r = await cli("events", "send", file("broken.jsonl", broken), "--token", token);
    expectExit(r, 2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^kakunin: .*broken\.jsonl: 1 bad line\(s\); nothing was sent\n {2}line 3: not JSON/);
    const invalid = [good[0], good[1]!.replace('"outcome":"success"', '"outcome":"maybe"'), good[2]].join("\n");
    const r2 = await cli("events", "send", file("invalid.jsonl", invalid), "--token", token, "--json");
    expectExit(r2, 2);
    expect(r2.stdout).toBe("");
    expect(r2.stderr).toContain("line 2: outcome: ");
    // The edge scored nothing new: still exactly the 1200 of the day's file.
    expect((await riskOf(agent.id)).events_scored).toBe(1200);
  });

  it("a batch the edge refuses (422) is reported with its file lines, the others are sent (exit 1)", async () => {
    const lines = recent(6, "r").trim().split("\n");
    lines[3] = lines[3]!.replace('"type":"tool_call"', '"type":"telepathy"');
    const r = await cli("events", "send", file("mixed.jsonl", lines.join("\n")), "--token", token, "--batch", "2", "--no-validate", "--json");
    expectExit(r, 1);
    const s = parsed<Summary>(r);
    expect(s).toMatchObject({ events: 6, batches: 3, sent: 6, accepted: 4, duplicates: 0, rejected_events: 2, stopped: null });
    expect(s.rejected_batches).toHaveLength(1);
    expect(s.rejected_batches[0]).toMatchObject({ batch: 2, first_line: 3, last_line: 4, status: 422, errors: [{ line: 4, path: "events.1.type" }] });
    const human = await cli("events", "send", join(dir, "mixed.jsonl"), "--token", token, "--batch", "2", "--no-validate");
    expectExit(human, 1);
    expect(human.stdout).toMatch(/^rejected batch 2 \(lines 3-4\): Validation failed \(422\): .*\n {2}line 4: events\.1\.type: /m);
    expect((await riskOf(agent.id)).events_scored).toBe(1204);
  });

  it("refusals exit 3 with the problem on stderr: wrong key, unknown agent or serial, conflicts, invalid fields", async () => {
    const cases: [string[], string][] = [
      [["agents", "list", "--api-key", "kk_wrong-key"], "kakunin: Unauthorized (401): Unknown or revoked API key."],
      [["agents", "get", randomUUID()], "kakunin: Not found (404): "],
      [["certify", randomUUID()], "kakunin: Not found (404): "],
      [["certify", agent.id], "kakunin: Agent already has an active certificate (409): "],
      [["revoke", randomUUID(), "--reason", "x"], "kakunin: Not found (404): "],
      [["verify", "0123456789abcdef0123"], "kakunin: Not found (404): "],
      [["verify", "not-hex"], "kakunin: Invalid serial number (400): "],
      [["tokens", "create", agent.id, "--ttl", "10s"], "kakunin: Validation failed (422): "],
      [["agents", "create", "--name", "x", "--model-name", "m", "--model-version", "1", "--model-hash", "md5:1", "--owner-name", "o", "--owner-email", "nope"], "kakunin: Validation failed (422): "],
    ];
    for (const [args, start] of cases) {
      const r = await cli(...args, "--json");
      expectExit(r, 3);
      expect(r.stdout, args.join(" ")).toBe("");
      expect(r.stderr.startsWith(start), `${args.join(" ")}: ${r.stderr}`).toBe(true);
    }
    const fields = await cli("agents", "create", "--name", "x", "--model-name", "m", "--model-version", "1", "--model-hash", "md5:1", "--owner-name", "o", "--owner-email", "nope");
    expect(fields.stderr).toContain("\n  model.hash: ");
    expect(fields.stderr).toContain("\n  owner.email: ");
  });

  it("revoke → verify not valid (exit 1); the agent's token is refused and events send stops (exit 3)", async () => {
    const r = await cli("revoke", cert.id, "--reason", "cli test", "--reason-code", "keyCompromise", "--json");
    expectExit(r, 0);
    expect(parsed<{ id: string; status: string; revocation_reason: string }>(r)).toMatchObject({ id: cert.id, status: "revoked", revocation_reason: "cli test" });
    await pollUntil(async () => ((await cli("verify", cert.serial_number)).code === 1 ? true : undefined), 20_000, 100);
    const v = await cli("verify", cert.serial_number, "--json");
    expectExit(v, 1);
    expect(parsed<Verdict>(v)).toMatchObject({ valid: false, status: "revoked", reasons: [{ code: "revoked" }] });
    const human = await cli("verify", cert.serial_number);
    expect(human.stdout).toMatch(/^✗ not valid\n[\s\S]*^revoked\s+\S+ \(cli test\)$/m);
    expectExit(await cli("revoke", cert.id, "--reason", "again"), 3);

    const after = await cli("events", "send", file("after.jsonl", recent(3, "after")), "--token", token, "--json");
    expectExit(after, 3);
    expect(after.stderr).toMatch(/^kakunin: Forbidden \(403\): The agent's certificate \S+ is revoked/);
    expect(parsed<Summary>(after)).toMatchObject({ sent: 0, accepted: 0, stopped: { unsent_events: 3 } });
  });

  it("audit export writes the evidence bundle as received; audit verify checks it offline (exit 0)", async () => {
    const out = join(dir, "bundle.json");
    const r = await cli("audit", "export", agent.id, "--out", out);
    expectExit(r, 0);
    expect(r.stdout).toMatch(new RegExp(`^wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(\\d+ bytes, \\d+ audit entries\\); check it offline: kakunin audit verify `));
    const bundle = JSON.parse(readFileSync(out, "utf8")) as { data: { format: string; entries: ({ kind: string } | string)[] } };
    expect(bundle.data.format).toBe("kakunin-evidence/3");
    const objects = bundle.data.entries.filter((e) => typeof e !== "string");
    expect(objects.filter((e) => e.kind === "event.ingested").length).toBeGreaterThanOrEqual(1200);
    expect(Number(/\((\d+) bytes, (\d+) audit entries\)/.exec(r.stdout)?.[2])).toBe(objects.length);
    // No trust anchor yet: the bundle's own root proves nothing.
    const unpinned = await cli("audit", "verify", out);
    expectExit(unpinned, 1);
    expect(unpinned.stdout).toMatch(/trust anchor not pinned: .*SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}.*--root/);
    // `kakunin init` (here checking the key it is given) saves the origin's root CA with the config.
    expectExit(await cli("init"), 0);
    const verified = await cli("audit", "verify", out);
    expectExit(verified, 0);
    expect(verified.stdout).toMatch(/^VERIFIED: /m);
    expect(verified.stdout).toMatch(/trust anchor: .*\(matches the root kakunin init saved in /);
    const j = await cli("audit", "export", agent.id, "--out", join(dir, "b2.json"), "--json");
    expectExit(j, 0);
    expect(parsed<{ file: string; bytes: number; entries: number }>(j)).toMatchObject({ file: join(dir, "b2.json"), entries: expect.any(Number) });
    // The previous format on request, counted the same way, verified the same way.
    const v2 = await cli("audit", "export", agent.id, "--out", join(dir, "v2.json"), "--format", "kakunin-evidence/2", "--json");
    expectExit(v2, 0);
    const v2doc = JSON.parse(readFileSync(join(dir, "v2.json"), "utf8")) as { data: { format: string; entries: unknown[] } };
    expect(v2doc.data.format).toBe("kakunin-evidence/2");
    expect(parsed<{ entries: number }>(v2).entries).toBe(v2doc.data.entries.length);
    expect((await cli("audit", "verify", join(dir, "v2.json"))).stdout).toMatch(/^VERIFIED: /m);
    const toStdout = await cli("audit", "export", agent.id, "--to", new Date().toISOString());
    expectExit(toStdout, 0);
    expect((JSON.parse(toStdout.stdout) as { data: { format: string } }).data.format).toBe("kakunin-evidence/3");
    expectExit(await cli("audit", "export", randomUUID(), "--out", join(dir, "none.json")), 3);
  });

  it("agents retire: the agent is retired; retiring it again is refused (exit 3)", async () => {
    const r = await cli("agents", "retire", other.id, "--json");
    expectExit(r, 0);
    expect(parsed<Agent>(r)).toMatchObject({ id: other.id, status: "retired" });
    const again = await cli("agents", "retire", other.id);
    expectExit(again, 3);
    expect(again.stderr).toMatch(/^kakunin: Agent already retired \(409\)/);
  });

  it("the alert loop: webhooks add/list, an out-of-scope burst flags the agent, reviews lists it, review --clear closes it and resets its risk, deliveries show the signed events", async () => {
    const got: { type: string; id: string }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => { body += c.toString(); });
      req.on("end", () => { const e = JSON.parse(body) as { type: string; id: string }; got.push({ type: e.type, id: e.id }); res.writeHead(204).end(); });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const added = await cli("webhooks", "add", url, "--json");
      expectExit(added, 0);
      const hook = parsed<{ id: string; secret: string }>(added);
      expect(hook.secret).toMatch(/^whsec_/);
      expect((await cli("webhooks", "list")).stdout).toContain(url);

      const a = parsed<Agent>(await cli("agents", "create", "--name", "loop-bot", "--model-name", "m", "--model-version", "1", "--model-hash", `sha256:${"ab".repeat(32)}`, "--owner-name", "O", "--owner-email", "o@bank.example", "--scope", "orders.*", "--json"));
      const c = parsed<Issued>(await cli("certify", a.id, "--json"));
      await pollUntil(async () => ((await cli("verify", c.serial_number)).code === 0 ? true : undefined), 20_000, 100);
      const tok = (await cli("tokens", "create", a.id, "-q")).stdout.trim();
      const t0 = Date.now() - 30_000;
      const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({
        event_id: `loop-${i}`, timestamp: new Date(t0 + i * 500).toISOString(), type: "tool_call", action: i < 25 ? "orders.quote" : "payments.send", outcome: "success",
      })).join("\n") + "\n";
      expectExit(await cli("events", "send", file("loop.jsonl", lines), "--token", tok, "--json"), 0);

      const { value: queued } = await pollUntil(async () => {
        const r = await cli("reviews", "--json");
        return parsed<{ agent_id: string; kind: string; alerts: number; opened_at: string; top_reasons: { feature: string }[] }[]>(r).find((i) => i.agent_id === a.id);
      }, 30_000, 250);
      expect(queued).toMatchObject({ kind: "review_required" });
      expect(queued.top_reasons.map((r) => r.feature)).toContain("out_of_scope");
      // Paged like agents list: one agent per page, every page followed, the same queue.
      const paged = await cli("reviews", "--limit", "1", "--all", "--json");
      expectExit(paged, 0);
      expect(parsed<{ agent_id: string }[]>(paged).map((i) => i.agent_id)).toContain(a.id);
      expectExit(await cli("reviews", "--all", "--cursor", "x"), 2);
      expect((await cli("verify", c.serial_number, "--json")).code).toBe(0);

      expectExit(await cli("review", a.id, "--clear"), 2);
      // Decided on more alerts than are open: refused (the API's 409 review-stale), nothing decided.
      const stale = await cli("review", a.id, "--clear", "--reason", "payments pilot approved", "--alerts", String(queued.alerts + 1));
      expectExit(stale, 3);
      expect(stale.stderr).toMatch(/New alerts arrived since the review was loaded \(409\): .* has 1 open alerts; the decision was made on 2/);
      // Decided on alerts opened at another time (the queue's SINCE): refused the same way.
      const other = await cli("review", a.id, "--clear", "--reason", "payments pilot approved", "--opened-at", "2020-01-01T00:00:00.000Z");
      expectExit(other, 3);
      expect(other.stderr).toMatch(/New alerts arrived since the review was loaded \(409\): .* open alerts were opened at /);
      const cleared = await cli("review", a.id, "--clear", "--reason", "payments pilot approved", "--alerts", String(queued.alerts), "--opened-at", queued.opened_at, "--json");
      expectExit(cleared, 0);
      expect(parsed<{ decision: string; agent_status: string }>(cleared)).toMatchObject({ decision: "clear", agent_status: "active" });
      // The monitor is told: the risk the reviewed events raised is dropped.
      await pollUntil(async () => ((await riskOf(a.id)).score === 0 ? true : undefined), 20_000, 200);

      await pollUntil(async () => (["io.kakunin.agent.risk.high", "io.kakunin.agent.review_required", "io.kakunin.agent.reviewed"].every((t) => got.some((g) => g.type === t)) ? true : undefined), 20_000, 200);
      const log = await cli("webhooks", "deliveries", hook.id, "--json");
      expectExit(log, 0);
      expect(parsed<{ status: string }[]>(log).every((d) => d.status === "delivered")).toBe(true);
      // One delivery per page, every page followed: the same log, in the same order.
      const pagedLog = await cli("webhooks", "deliveries", hook.id, "--limit", "1", "--all", "--json");
      expectExit(pagedLog, 0);
      expect(parsed<{ id: string }[]>(pagedLog).map((d) => d.id)).toEqual(parsed<{ id: string }[]>(log).map((d) => d.id));
      const first = await cli("webhooks", "deliveries", hook.id, "--limit", "1");
      expectExit(first, 0);
      expect(first.stderr).toMatch(/^more: kakunin webhooks deliveries \S+ --cursor \S+/m);
      // Removed: no longer listed; removing it again is a not-found error.
      expectExit(await cli("webhooks", "remove", hook.id), 0);
      expect((await cli("webhooks", "list")).stdout).not.toContain(url);
      expect((await cli("webhooks", "remove", hook.id)).code).not.toBe(0);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }, 120_000);
});
