/**
 * Trimming the end of a bundle: drop the agent's last entries (events and the export checkpoint)
 * and move the unsigned `window.to` back to the last kept entry. Every remaining entry is still
 * proven, so only completeness can catch it: a bundle must end with its export's checkpoint (the
 * last leaf of the signed tree), whose signed data.window is the bundle's window. Genuine bundles
 * exported with `to` carry that checkpoint too and verify.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signInternal, type EvidenceBundleV2 } from "@kakunin/shared";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { fetchRoot, kakunin, type Run } from "./support/run.ts";

const NO_CONFIG = { KAKUNIN_CONFIG: join(tmpdir(), "kakunin-trim-end-no-config.json") };
type Entry = { at: string; kind: string; data: { window?: unknown } };
const parsed = (e: EvidenceBundleV2["entries"][number]): Entry => JSON.parse(e.canonical) as Entry;

describe("a bundle trimmed at its end fails `kakunin audit verify`", () => {
  let o: TestOrigin;
  let dir = "";
  let rootFile = "";
  let agent = "";
  let full: EvidenceBundleV2;
  let middle = "";

  const verify = (name: string, b: EvidenceBundleV2): Promise<Run> => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify({ data: b }));
    return kakunin(NO_CONFIG, "audit", "verify", path, "--root", rootFile);
  };
  const exportV2 = async (q: string) =>
    (await o.json<{ data: EvidenceBundleV2 }>("GET", `/v1/agents/${agent}/evidence?format=kakunin-evidence/2${q}`)).body.data;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-trim-end-"));
    o = await startTestOrigin("pglite");
    ({ rootFile } = await fetchRoot(o, dir));
    const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const events = async (ids: string[]) => {
      const path = "/internal/v1/events";
      const body = JSON.stringify({
        events: ids.map((id) => ({
          agent_id: agent,
          tenant_id: tenantId,
          serial_number: cert.serial_number,
          score: 0.1,
          band: "low",
          reasons: [],
          received_at: new Date().toISOString(),
          event: {
            event_id: id,
            timestamp: new Date().toISOString(),
            type: "transaction",
            action: "orders.place",
            amount: 1,
            currency: "EUR",
            outcome: "success",
          },
        })),
      });
      const headers = await signInternal(o.services.edgeSecret, "POST", path, body);
      expect((await o.request("POST", path, { key: null, rawBody: body, headers: { ...headers, "content-type": "application/json" } })).status).toBe(200);
    };
    for (const id of ["e1", "e2", "e3"]) await events([id]);
    await new Promise((r) => setTimeout(r, 20));
    middle = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    for (const id of ["e4", "e5", "e6"]) await events([id]);
    full = await exportV2("");
  });
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("dropping the last 3 events and the checkpoint, window.to moved back → 'no entry removed' fails", async () => {
    const b = structuredClone(full);
    expect(b.entries.at(-1)!.kind).toBe("evidence.exported");
    b.entries = b.entries.slice(0, -4);
    b.window.to = parsed(b.entries.at(-1)!).at;
    const r = await verify("trimmed.json", b);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/^✗ no entry removed: /m);
    expect(r.stdout).toMatch(/export checkpoint/);
  });

  it("a genuine bundle exported with ?to= ends with its checkpoint, whose signed window is the bundle's, and verifies", async () => {
    const b = await exportV2(`&to=${encodeURIComponent(middle)}`);
    const last = b.entries.at(-1)!;
    expect(last.kind).toBe("evidence.exported");
    expect(last.index).toBe(b.tree_head.tree_size - 1);
    expect(parsed(last).data.window).toEqual(b.window);
    const r = await verify("to.json", b);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^✓ no entry removed: /m);
  });

  it("a windowed bundle whose unsigned window differs from its checkpoint's → fails naming the window", async () => {
    const b = await exportV2(`&to=${encodeURIComponent(middle)}`);
    b.window.to = new Date(Date.parse(middle) + 3600_000).toISOString();
    const r = await verify("window-edited.json", b);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/window/);
  });

  it("a ?to= bundle trimmed back to its closing boundary (checkpoint and later lifecycle dropped) fails", async () => {
    const b = await exportV2(`&to=${encodeURIComponent(middle)}`);
    b.entries = b.entries.slice(0, -1);
    const r = await verify("to-trimmed.json", b);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/^✗ no entry removed: /m);
  });
});
