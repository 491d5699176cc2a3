/**
 * Entry times are not monotonic in the audit log: a renewal stamps its entries with the time it
 * started, before a key generation that takes seconds in a KMS or an HSM, and events logged
 * meanwhile come before them in the log with later times. An export with `from` inside that
 * interval opened at the renewal's entries (the last ones "logged before `from`" by index), so
 * the window's first events were left out of an honest export, and the verifier called the
 * stretch unbroken. The same for `to` with an activity entry logged late with an earlier time.
 * The export now cuts the window in log order: every in-window entry is in the bundle, and the
 * bundle still verifies.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../../origin/src/audit/append.ts";
import { agents } from "../../origin/src/db/schema.ts";
import { agentBody, forwardedEvent, postInternal, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { fetchRoot, kakunin, parsed } from "./support/run.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type V2Bundle = { data: { entries: { canonical: string }[] } };

interface Entry {
  kind: string;
  data: { event?: { event_id: string } };
}

describe("an evidence window is cut in log order, not by entry times", () => {
  let o: TestOrigin;
  let dir = "";
  let tenantId = "";
  let agent = "";
  let serial = "";
  let rootFile = "";
  /** `kakunin audit verify` of `path` against the origin's root, with no CLI config. */
  const verifyFile = (path: string, ...extra: string[]) =>
    kakunin({ KAKUNIN_CONFIG: join(dir, "no-config.json") }, "audit", "verify", path, "--root", rootFile, ...extra);

  const post = async (path: string, doc: unknown) => {
    expect((await postInternal(o, path, doc)).status).toBe(200);
  };
  const event = (id: string) =>
    post("/internal/v1/events", {
      events: [
        forwardedEvent(
          { agent, tenant: tenantId, serial },
          {
            event_id: id,
            timestamp: new Date().toISOString(),
            type: "transaction",
            action: "orders.place",
            amount: 100,
            currency: "EUR",
            outcome: "success",
          },
        ),
      ],
    });
  /** An event.ingested entry appended straight to the log with the time given (what a late or legacy writer leaves). */
  const logEvent = (agentId: string, eventId: string, at: Date) =>
    o.services.db.transaction((tx) =>
      appendAudit(tx, tenantId, [
        {
          kind: "event.ingested",
          actor: { type: "edge", id: "agent-monitor" },
          agentId,
          at,
          data: {
            event: {
              event_id: eventId,
              timestamp: at.toISOString(),
              type: "transaction",
              action: "orders.place",
              amount: 1,
              currency: "EUR",
              outcome: "success",
            },
            score: 0.1,
            band: "low",
            reasons: [],
            serial_number: serial,
            received_at: at.toISOString(),
          },
        },
      ]),
    );
  /** The bundle (v2: entries as objects) and what `kakunin audit verify` says of it. */
  const exported = async (query: string) => {
    const r = await o.json<{ data: { entries: { canonical: string }[] } }>("GET", `/v1/agents/${agent}/evidence?format=kakunin-evidence/2&${query}`);
    expect(r.status).toBe(200);
    const path = join(dir, `b-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(r.body));
    const events = r.body.data.entries
      .map((e) => JSON.parse(e.canonical) as Entry)
      .flatMap((e) => (e.kind === "event.ingested" ? [e.data.event!.event_id] : []));
    return { events, verify: await verifyFile(path), bundle: r.body };
  };
  /** The bundle of the `from` test below, as exported. */
  let fromBundle: V2Bundle | undefined;
  /** `kakunin audit verify` of `bundle` with the events named removed, as a holder could hand it on (v2: each entry proves itself). */
  const verifyTrimmed = async (bundle: V2Bundle, eventIds: string[], name: string) => {
    const gone = new Set(eventIds);
    const entries = bundle.data.entries.filter((e) => {
      const entry = JSON.parse(e.canonical) as Entry;
      return !(entry.kind === "event.ingested" && gone.has(entry.data.event!.event_id));
    });
    expect(entries.length).toBe(bundle.data.entries.length - eventIds.length);
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify({ data: { ...bundle.data, entries } }));
    return verifyFile(path);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-window-order-"));
    o = await startTestOrigin("pglite");
    tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
    ({ rootFile } = await fetchRoot(o, dir));
  });
  afterAll(async () => {
    await o.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("from: events logged while a renewal generated its key are in the bundle, which verifies", async () => {
    await event("before-1");
    await sleep(30);
    // A key manager that takes 600 ms per key (AWS KMS or an HSM generating RSA-2048 is in that range).
    const keys = o.services.keys as { createKey: (...a: unknown[]) => Promise<unknown> };
    const createKey = keys.createKey.bind(keys);
    keys.createKey = async (...a: unknown[]) => {
      await sleep(600);
      return createKey(...a);
    };
    const renewing = o.json("POST", `/v1/agents/${agent}/certificates/renew`, { body: {} });
    await sleep(150);
    const from = new Date().toISOString();
    await sleep(30);
    await event("in-window-1");
    await event("in-window-2");
    expect((await renewing).status).toBe(201);
    keys.createKey = createKey;
    await event("in-window-3");
    const { events, verify, bundle } = await exported(`from=${encodeURIComponent(from)}`);
    // before-1 opens the stretch: the agent's last entry, in log order, before its first one at or after `from`.
    expect(events).toEqual(["before-1", "in-window-1", "in-window-2", "in-window-3"]);
    expect(verify.stdout).toMatch(/^VERIFIED/m);
    expect(verify.code).toBe(0);
    fromBundle = bundle;
  });

  it("from: a holder who cuts the bundle down to the renewal's entries (also logged before `from`) is caught: the checkpoint signs where the stretch opens", async () => {
    if (!fromBundle) throw new Error("the from test did not run");
    // What a holder of that bundle could hand on: the window's first events removed, so the stretch
    // opens at the renewal's first entry, whose time is before `from` too (v2: every entry carries
    // its own inclusion proof, so the others still prove included).
    const r = await verifyTrimmed(fromBundle, ["before-1", "in-window-1", "in-window-2"], "trimmed-opening.json");
    expect(r.stdout).toMatch(/^FAILED/m);
    expect(r.stdout).toMatch(/no entry removed[\s\S]*opens at agent_seq \d+, after agent_seq \d+ where its export checkpoint says the stretch opens/);
    expect(r.code).toBe(1);
  });

  it("to: an event logged late with an earlier time than entries before it is in the bundle, which verifies; cut back to an earlier closing entry, it fails", async () => {
    await event("early-1");
    await sleep(30);
    const to = new Date();
    await sleep(30);
    await event("after-to");
    // Logged after "after-to" with a time before `to` (what a transaction that waited for the log's lock writes).
    await logEvent(agent, "late-in-window", new Date(to.getTime() - 10));
    await event("after-to-2");
    const { events, verify, bundle } = await exported(`to=${encodeURIComponent(to.toISOString())}`);
    expect(events).toEqual(expect.arrayContaining(["early-1", "late-in-window"]));
    expect(verify.stdout).toMatch(/^VERIFIED/m);
    expect(verify.code).toBe(0);
    // A holder who cuts it back to "after-to" (also logged at or after `to`), dropping the late
    // in-window event and what closed the stretch after it, is caught by the signed stretch.
    const r = await verifyTrimmed(bundle, ["late-in-window", "after-to-2"], "trimmed-closing.json");
    expect(r.stdout).toMatch(/no entry removed[\s\S]*closes at agent_seq \d+, before agent_seq \d+ where its export checkpoint says the stretch closes/);
    expect(r.code).toBe(1);
  });

  it("an agent whose chain does not start at its creation (it began under audit entry v1) is said to be unproven before it, even with no v1 entry in the bundle", async () => {
    // An agent of the v1 era: its row exists, its v1 entries are not in this log, its first v2 entry is an event.
    const [legacy] = await o.services.db
      .insert(agents)
      .values({
        tenantId,
        name: "v1-era",
        modelName: "m",
        modelVersion: "1",
        modelHash: `sha256:${"ab".repeat(32)}`,
        ownerName: "o",
        ownerEmail: "o@example.com",
        scopes: ["orders.*"],
      })
      .returning();
    await logEvent(legacy!.id, "v1-era-1", new Date());
    const r = await o.json<unknown>("GET", `/v1/agents/${legacy!.id}/evidence`);
    const path = join(dir, "legacy.json");
    writeFileSync(path, JSON.stringify(r.body));
    const { checks } = parsed<{ checks: { id: string; notes: string[] }[] }>(await verifyFile(path, "--json"));
    expect(checks.find((c) => c.id === "completeness")!.notes.join("\n")).toMatch(/starts at entry \d+ \(event\.ingested\), not at its creation/);
  });
});
