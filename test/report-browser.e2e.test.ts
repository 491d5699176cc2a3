/**
 * The evidence report as a compliance officer reads it: opened in Debian's chromium (playwright-core)
 * and printed, from a bundle a real origin exported. What is checked is what a person sees: the
 * times the table prints, and whether anything is cut off the page.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, forwardedEvent, postInternal, startTestOrigin, type TestOrigin } from "../origin/test/harness.ts";
import { fetchRoot, kakunin } from "../cli/test/support/run.ts";
import { launchChromium } from "./support/browser.ts";

const NO_CONFIG = { KAKUNIN_CONFIG: join(tmpdir(), "kakunin-report-browser-no-config.json") };

/** `t` written as a local time with a UTC offset, as RFC 3339 and the ingest contract allow (`+09:00`). */
function withOffset(t: number, minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${new Date(t + minutes * 60_000).toISOString().slice(0, 19)}${sign}${hhmm}`;
}

/** "2026-12-07 01:00:00 UTC": how the report writes a time. */
const utc = (t: number) => `${new Date(t).toISOString().slice(0, 19).replace("T", " ")} UTC`;

describe("the evidence report in a browser", () => {
  let o: TestOrigin;
  let browser: Browser;
  let dir = "";
  let rootFile = "";
  let tenant = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-report-browser-"));
    [o, browser] = await Promise.all([startTestOrigin("pglite"), launchChromium()]);
    ({ rootFile } = await fetchRoot(o, dir));
    tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
  });
  afterAll(async () => {
    await browser?.close();
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * An agent, certified, with `events` forwarded as the edge does and `revoke` (a revocation
   * reason) applied after them; its verified report written.
   */
  async function reportOf(
    name: string,
    events: { event: Record<string, unknown>; detail?: string }[],
    opts: { revoke?: string; owner?: string } = {},
  ): Promise<string> {
    const owner = opts.owner === undefined ? {} : { owner: { name: opts.owner, email: "risk@bank.example" } };
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name, ...owner }) })).body.data.id;
    const serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
    const forwarded = events.map((e) =>
      forwardedEvent({ agent, tenant, serial }, e.event, {
        score: 0.95,
        band: "high",
        reasons: [{ feature: "new_tool", contribution: 0.9, detail: e.detail ?? "first use" }],
      }),
    );
    expect((await postInternal(o, "/internal/v1/events", { events: forwarded })).status).toBe(200);
    if (opts.revoke !== undefined) {
      const cert = (await o.json<{ data: { id: string }[] }>("GET", `/v1/agents/${agent}/certificates`)).body.data[0]!.id;
      expect((await o.json("POST", `/v1/certificates/${cert}/revoke`, { body: { reason: opts.revoke } })).status).toBe(200);
    }
    const bundle = join(dir, `${name}.json`);
    writeFileSync(bundle, await (await o.request("GET", `/v1/agents/${agent}/evidence`)).text());
    const out = join(dir, `${name}.html`);
    const r = await kakunin(NO_CONFIG, "audit", "report", bundle, "--root", rootFile, "--out", out);
    expect(r.code, r.stderr).toBe(0);
    return out;
  }

  it("an event the agent stamped with a UTC offset is printed at its UTC time, and the window runs from the earliest instant to the latest", async () => {
    // Two events an agent in Tokyo and one in New York stamped in local time (both allowed by the
    // contract): 01:00 UTC written as 10:00+09:00, and 06:30 UTC written as 01:30-05:00.
    const base = Date.now() - 6 * 3600_000;
    const tokyo = Math.floor(base / 60_000) * 60_000;
    const newYork = tokyo + 5.5 * 3600_000;
    const event = (id: string, timestamp: string) => ({ event: { event_id: id, timestamp, type: "transaction", action: "payments.send", outcome: "success" } });
    const html = await reportOf("offset-bot", [event("tokyo", withOffset(tokyo, 540)), event("new-york", withOffset(newYork, -300))]);
    const page = await browser.newPage();
    await page.goto(pathToFileURL(html).href);
    const claimed = await page.locator("#high-events tbody tr").evaluateAll((rows) => rows.map((r) => r.children[1]?.textContent));
    // Before: "<local clock> UTC", 9 hours after the real instant for Tokyo and 5 before for New York.
    expect(claimed).toEqual([utc(tokyo), utc(newYork)]);
    const summary = await page.locator("#activity > p").first().textContent();
    expect(summary).toContain(`actions from ${utc(tokyo)} to ${utc(newYork)}`);
    await page.close();
  });

  it("printed, nothing is cut off the page: a long unbroken name, action, reason or revocation reason wraps inside its column", async () => {
    // What an agent and an issuer control: a 64-character name and a 128-character owner without a
    // space, a 128-character action (in the risk reason's detail too) and a revocation reason of
    // one 512-character word (a pasted hash, a ticket URL, a log line).
    const action = `payments.${"x".repeat(119)}`;
    const revocation = `INC-${"7".repeat(508)}`;
    const now = new Date().toISOString();
    const html = await reportOf(
      "W".repeat(64),
      [{ event: { event_id: "long", timestamp: now, type: "tool_call", action, outcome: "success" }, detail: `'${action}', rarely or never used before` }],
      { revoke: revocation, owner: "O".repeat(128) },
    );
    // A Letter page less chromium's default print margins is about 740 CSS px wide; what is wider
    // than that is cut off the printed page (--pdf prints exactly this).
    const page = await browser.newPage({ viewport: { width: 740, height: 1000 } });
    await page.emulateMedia({ media: "print" });
    await page.goto(pathToFileURL(html).href);
    const overflowing = await page
      .locator("h1, p, li, td, th, dd")
      .evaluateAll((els) =>
        els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => `${e.tagName} ${e.textContent?.slice(0, 40)}… (${e.scrollWidth} > ${e.clientWidth})`),
      );
    expect(overflowing).toEqual([]);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(740);
    // Wrapped, not dropped: the whole text is still there.
    const text = (await page.locator("body").innerText()).replace(/\s+/g, "");
    expect(text).toContain(revocation);
    expect(text).toContain("O".repeat(128));
    expect(text).toContain(`'${action}',rarelyorneverusedbefore`);
    await page.close();
  });

  it("a renewed certificate's validity ends where its overlap did: the table and the timeline say when it was superseded, not valid until it expires", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "renewed-bot" }) })).body.data.id;
    const old = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
    const at = new Date().toISOString();
    const event = forwardedEvent(
      { agent, tenant, serial: old },
      { event_id: "before", timestamp: at, type: "tool_call", action: "crm.lookup_customer", outcome: "success" },
    );
    expect((await postInternal(o, "/internal/v1/events", { events: [event] })).status).toBe(200);
    // Renewed with no overlap: the old certificate stops speaking for the agent at once.
    const renewed = await o.json<{ data: { predecessor: { serial_number: string; superseded_at: string } } }>(
      "POST",
      `/v1/agents/${agent}/certificates/renew`,
      {
        body: { overlap_seconds: 0 },
      },
    );
    expect(renewed.status, JSON.stringify(renewed.body)).toBe(201);
    const supersededAt = Date.parse(renewed.body.data.predecessor.superseded_at);
    const bundle = join(dir, "renewed.json");
    writeFileSync(bundle, await (await o.request("GET", `/v1/agents/${agent}/evidence`)).text());
    const out = join(dir, "renewed.html");
    const r = await kakunin(NO_CONFIG, "audit", "report", bundle, "--root", rootFile, "--out", out);
    expect(r.code, r.stderr).toBe(0);
    const page = await browser.newPage();
    await page.goto(pathToFileURL(out).href);
    // The table: the old certificate's row says when it was superseded.
    const heads = await page.locator("#certificates table thead th").allTextContents();
    const cells = await page.locator("#certificates table tbody tr").filter({ hasText: old }).locator("td").allTextContents();
    expect(cells[heads.indexOf("Status")]).toBe("superseded");
    expect(cells[heads.indexOf("Superseded")]).toBe(utc(supersededAt));
    // The timeline: its bar ends there, not at its expiry a year on, where the successor's runs.
    const bars = await page.locator("#certificates svg rect").evaluateAll((rs) =>
      rs.map((r) => ({
        title: r.querySelector("title")?.textContent ?? "",
        right: Number(r.getAttribute("x")) + Number(r.getAttribute("width")),
        cls: r.getAttribute("class"),
      })),
    );
    const oldBar = bars.find((b) => b.title.startsWith(old))!;
    const newBar = bars.find((b) => !b.title.startsWith(old))!;
    expect(oldBar.title).toContain("superseded by its renewal");
    expect(oldBar.cls).not.toBe("cert-valid");
    expect(oldBar.right).toBeLessThan(newBar.right / 2);
    await page.close();
  });

  it("a bidi override in an action an older edge accepted is shown as \\u202e, never obeyed: the reason after it reads as written", async () => {
    // The ingest door refuses U+202E since 2026-12-06; events an older edge accepted are still forwarded and logged.
    const action = "refund\u202E";
    const html = await reportOf("legacy-bot", [
      {
        event: { event_id: "old-1", timestamp: new Date().toISOString(), type: "transaction", action, outcome: "success" },
        detail: `'${action}', rarely or never used before`,
      },
    ]);
    const page = await browser.newPage();
    await page.goto(pathToFileURL(html).href);
    const xs = (await page.evaluate(`(() => {
      const w = document.createTreeWalker(document.querySelector("#high-events ul"), NodeFilter.SHOW_TEXT);
      for (let n = w.nextNode(); n; n = w.nextNode()) {
        const i = n.data.indexOf("rarely");
        if (i < 0) continue;
        return Array.from("rarely", (_, k) => { const r = document.createRange(); r.setStart(n, i + k); r.setEnd(n, i + k + 1); return r.getBoundingClientRect().left; });
      }
      return null;
    })()`)) as number[] | null;
    expect(xs !== null && xs.every((x, i) => i === 0 || x > xs[i - 1]!)).toBe(true);
    await expect(page.locator("#by-action").textContent()).resolves.toContain("refund\\u202e");
    await page.close();
  });
});
