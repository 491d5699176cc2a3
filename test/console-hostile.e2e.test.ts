/**
 * The console against what its users' counterparts control, in Debian's chromium (playwright-core):
 * an issuer names agents, models and owners; an agent names its actions, which the risk reasons
 * quote. None of it may hide what the page is for. The console is the origin's, so a real origin
 * (PGlite) behind a loopback socket is enough; events arrive as the edge forwards them.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, forwardedEvent, postInternal } from "../origin/test/harness.ts";
import { launchChromium, watchCsp, watchErrors } from "./support/browser.ts";
import { servedOrigin, type ServedOrigin } from "./support/served-origin.ts";

const VIEWPORT = { width: 1280, height: 900 };
/** Screenshots (git-ignored), beside the console test's. */
const ARTIFACTS = resolve(import.meta.dirname, "../test-artifacts/console");

describe("the console with hostile strings", () => {
  let s: ServedOrigin;
  let browser: Browser;
  let tenant = "";
  let calm = "";
  let long = "";
  const longAction = `payments.${"x".repeat(119)}`;

  async function json<T>(method: string, path: string, body?: unknown, key?: string): Promise<T> {
    const r = await s.origin.json<T>(method, path, { body, key });
    expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
    return r.body;
  }

  /** An agent created by `key` and certified; returns its id and serial. */
  async function certified(overrides: Record<string, unknown>, key?: string): Promise<{ agent: string; serial: string }> {
    const agent = (await json<{ data: { id: string } }>("POST", "/v1/agents", agentBody(overrides), key)).data.id;
    const serial = (await json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`, undefined, key)).data.serial_number;
    return { agent, serial };
  }

  async function signedIn(key: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: VIEWPORT })).newPage();
    await page.goto(`${s.url}/console`);
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/console\/agents$/);
    return page;
  }

  beforeAll(async () => {
    [s, browser] = await Promise.all([servedOrigin(), launchChromium()]);
    tenant = (await json<{ data: { id: string } }>("GET", "/v1/tenant")).data.id;
    const issuer = (await json<{ data: { key: string } }>("POST", "/v1/api-keys", { name: "onboarding", role: "issuer" })).data.key;
    calm = (await certified({ name: "calm-bot" })).agent;
    // An issuer's agent: every name as long as the API takes, without a space.
    const l = await certified(
      {
        name: "W".repeat(64),
        model: { name: "M".repeat(128), version: "V".repeat(64), hash: `sha256:${"cd".repeat(32)}` },
        owner: { name: "O".repeat(128), email: "owner@bank.example" },
      },
      issuer,
    );
    long = l.agent;
    // Its agent's 128-character action, quoted by the risk reason as the scorer words it.
    const event = forwardedEvent(
      { agent: long, tenant, serial: l.serial },
      { event_id: "long-1", timestamp: new Date().toISOString(), type: "tool_call", action: longAction, outcome: "success" },
      {
        score: 0.6,
        band: "medium",
        reasons: [{ feature: "young_tools", contribution: 0.5, detail: `'${longAction}', rarely or never used before, has 1 of the last 1 events` }],
      },
    );
    expect((await postInternal(s.origin, "/internal/v1/events", { events: [event] })).status).toBe(200);
  });

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  /** Elements whose right edge is past the viewport: what a person at this width cannot see. */
  async function offScreen(page: Page, selector: string): Promise<string[]> {
    return page
      .locator(selector)
      .evaluateAll(
        (els, width) => els.filter((e) => e.getBoundingClientRect().right > width).map((e) => `${e.tagName} ${(e.textContent ?? "").slice(0, 30)}`),
        VIEWPORT.width,
      );
  }

  it("one agent's long unbroken name, model and owner push no column of the agents table, nor of its own page, off the screen", async () => {
    const page = await signedIn(s.origin.adminKey);
    const csp = await watchCsp(page);
    const errors = watchErrors(page);
    await page.reload();
    // Every agent's status and band, the calm one's included, is on screen; the page does not scroll sideways.
    expect(await offScreen(page, `#agents thead th, tr[data-agent-id="${calm}"] > *`)).toEqual([]);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(VIEWPORT.width);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "agents-long-names.png") });
    // Its page: certificate status, expiry and revocation, the events' scores and bands, all on screen.
    await page.goto(`${s.url}/console/agents/${long}`);
    await page.locator("#timeline[data-ready=true]").waitFor();
    expect(await offScreen(page, "h1, #certificates th, #certificates td, #events th, #events td")).toEqual([]);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(VIEWPORT.width);
    await page.screenshot({ path: join(ARTIFACTS, "agent-long-names.png"), fullPage: true });
    // Wrapped, not cut: the whole name and action are still on the page.
    const text = (await page.locator("main").innerText()).replace(/\s+/g, "");
    expect(text).toContain("W".repeat(64));
    expect(text).toContain(longAction);
    // Times and statuses keep whole words.
    const expires = await page.locator("#certificates tbody td").nth(4).locator("time").boundingBox();
    expect(expires!.height).toBeLessThan(40);
    await page.goto(`${s.url}/console/keys`);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(VIEWPORT.width);
    expect(csp).toEqual([]);
    expect(errors).toEqual([]);
  });

  /** An agent the risk policy auto-revoked (the default): suspended, waiting in the review queue. */
  async function autoRevoked(name: string): Promise<string> {
    const { agent, serial } = await certified({ name });
    const at = new Date().toISOString();
    const reasons = [{ feature: "out_of_scope", contribution: 0.9, detail: "action 'payments.send' is not covered" }];
    const event = forwardedEvent(
      { agent, tenant, serial },
      { event_id: `${name}-1`, timestamp: at, type: "transaction", action: "payments.send", outcome: "success" },
      { score: 0.95, band: "high", reasons },
    );
    expect((await postInternal(s.origin, "/internal/v1/events", { events: [event] })).status).toBe(200);
    const alert = {
      alert_id: `al-${name}`,
      agent_id: agent,
      tenant_id: tenant,
      serial_number: serial,
      score: 0.95,
      reasons,
      event_ids: [`${name}-1`],
      triggered_at: at,
    };
    expect((await postInternal(s.origin, "/internal/v1/risk-alerts", alert)).status).toBe(200);
    return agent;
  }

  it("a review reason the API refuses (a bidi override that reorders what the audit log and the report show) is refused by the console's form too", async () => {
    const agent = await autoRevoked("queued-bot");
    const page = await signedIn(s.origin.adminKey);
    await page.goto(`${s.url}/console/reviews`);
    const item = page.locator(`#queue [data-agent-id="${agent}"]`);
    // U+202E makes the rest of the line read right to left: "approved by CISO" shows as "OSIC yb devorppa".
    const reason = "false positive, \u202Eapproved by CISO";
    const api = await s.origin.json("POST", `/v1/agents/${agent}/review`, { body: { decision: "reinstate", reason } });
    expect(api.status).toBe(422);
    page.once("dialog", (d) => void d.accept());
    await item.getByLabel("Reinstate").check();
    await item.getByLabel(/^Reason/).fill(reason);
    await item.getByRole("button", { name: "Record decision" }).click();
    await page.waitForURL(/[?&](done|error)=/);
    expect(new URL(page.url()).searchParams.get("error")).toBe("invalid-reason");
    await expect(page.getByRole("alert").textContent()).resolves.toMatch(/control characters or bidirectional overrides/);
    // Nothing decided, nothing logged: the agent is still suspended and waiting.
    expect((await s.origin.json<{ data: { status: string } }>("GET", `/v1/agents/${agent}`)).body.data.status).toBe("suspended");
    const logged = await s.origin.json<{ data: unknown[] }>("GET", `/v1/audit/entries?kind=review.decided&agent_id=${agent}`);
    expect(logged.body.data).toEqual([]);
    expect(await page.locator(`#queue [data-agent-id="${agent}"]`).count()).toBe(1);
  });

  /**
   * x positions of the characters of `needle` in the first text node under `root` that holds it, as
   * laid out: increasing when they read left to right.
   */
  function layoutOf(root: string, needle: string): string {
    return `(() => {
      const w = document.createTreeWalker(document.querySelector(${JSON.stringify(root)}), NodeFilter.SHOW_TEXT);
      for (let n = w.nextNode(); n; n = w.nextNode()) {
        const i = n.data.indexOf(${JSON.stringify(needle)});
        if (i < 0) continue;
        return Array.from(${JSON.stringify(needle)}, (_, k) => { const r = document.createRange(); r.setStart(n, i + k); r.setEnd(n, i + k + 1); return r.getBoundingClientRect().left; });
      }
      return null;
    })()`;
  }
  const ascending = (xs: number[] | null) => xs !== null && xs.every((x, i) => i === 0 || x > xs[i - 1]!);

  it("a bidi override in an action an older edge accepted is shown, never obeyed: the score and the reason beside it read as written", async () => {
    // Before 2026-12-06 the ingest door let U+202E through; the edge still forwards, and the origin
    // stores, events it accepted then (acceptedEventSchema). Such an action reversed what followed it.
    const { agent, serial } = await certified({ name: "legacy-bot" });
    const action = "refund\u202E";
    const t = Date.now() - 60_000;
    const events = [
      forwardedEvent(
        { agent, tenant, serial },
        { event_id: "old-0", timestamp: new Date(t - 60_000).toISOString(), type: "tool_call", action: "crm.lookup", outcome: "success" },
      ),
      forwardedEvent(
        { agent, tenant, serial },
        { event_id: "old-1", timestamp: new Date(t).toISOString(), type: "transaction", action, outcome: "success" },
        { score: 0.95, band: "high", reasons: [{ feature: "young_tools", contribution: 0.9, detail: `'${action}', rarely or never used before` }] },
      ),
    ];
    expect((await postInternal(s.origin, "/internal/v1/events", { events })).status).toBe(200);
    const page = await signedIn(s.origin.adminKey);
    await page.goto(`${s.url}/console/agents/${agent}`);
    await page.locator("#timeline[data-ready=true]").waitFor();
    // The events table: the reason after the action reads left to right, and the control is shown as text.
    expect(ascending((await page.evaluate(layoutOf("#events ul.reasons", "rarely"))) as number[] | null)).toBe(true);
    await expect(page.locator("#events").textContent()).resolves.toContain("refund\\u202e");
    // The timeline's tooltip: "refund: score 0.95" showed the score as "59.0".
    const box = (await page.locator("#timeline .u-over").boundingBox())!;
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    await expect(page.locator("#timeline-tip").textContent()).resolves.toContain("score 0.95");
    expect(ascending((await page.evaluate(layoutOf("#timeline-tip", "0.95"))) as number[] | null)).toBe(true);
  });

  it("an event the agent back-dated shows as the agent's claim beside the time the edge received it", async () => {
    // The contract accepts events up to 30 days old: a burst stamped 20 days back, received now.
    const { agent, serial } = await certified({ name: "backdating-bot" });
    const claimed = new Date(Date.now() - 20 * 86_400_000);
    const event = forwardedEvent(
      { agent, tenant, serial },
      { event_id: "back-1", timestamp: claimed.toISOString(), type: "transaction", action: "payments.send", outcome: "success" },
      { score: 0.95, band: "high", reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "not granted" }] },
    );
    const received = String(event.received_at);
    expect((await postInternal(s.origin, "/internal/v1/events", { events: [event] })).status).toBe(200);
    const page = await signedIn(s.origin.adminKey);
    await page.goto(`${s.url}/console/agents/${agent}`);
    const heads = await page.locator("#events thead th").allTextContents();
    const cells = page.locator("#events tbody tr").first().locator("td");
    const claimedAt = heads.findIndex((h) => /claim/i.test(h));
    const receivedAt = heads.findIndex((h) => /received/i.test(h));
    expect(claimedAt).toBeGreaterThanOrEqual(0);
    expect(receivedAt).toBeGreaterThanOrEqual(0);
    expect(await cells.nth(claimedAt).locator("time").getAttribute("datetime")).toBe(claimed.toISOString());
    expect(await cells.nth(receivedAt).locator("time").getAttribute("datetime")).toBe(new Date(received).toISOString());
  });

  it("an agent's first event: the risk timeline's time axis spans that event's hour, not years around it", async () => {
    const { agent, serial } = await certified({ name: "first-event-bot" });
    const t = Date.now() - 60_000;
    const event = forwardedEvent(
      { agent, tenant, serial },
      { event_id: "first", timestamp: new Date(t).toISOString(), type: "tool_call", action: "crm.lookup", outcome: "success" },
    );
    expect((await postInternal(s.origin, "/internal/v1/events", { events: [event] })).status).toBe(200);
    const page = await signedIn(s.origin.adminKey);
    await page.goto(`${s.url}/console/agents/${agent}`);
    const chart = page.locator("#timeline[data-ready=true]");
    await chart.waitFor();
    const from = Date.parse((await chart.getAttribute("data-from"))!);
    const to = Date.parse((await chart.getAttribute("data-to"))!);
    expect(from).toBeLessThan(t);
    expect(to).toBeGreaterThan(t);
    expect(to - from).toBeLessThanOrEqual(2 * 3600_000);
  });
});
