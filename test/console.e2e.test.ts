import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { HtmlValidate } from "html-validate";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../cli/test/support/run.ts";
import { launchChromium, seriousAxeViolations, watchCsp, watchErrors } from "./support/browser.ts";
import { attackBurst, normalTrading } from "../scripts/demo/traffic.ts";
import { apiClient, enrolledAgent, postEvents, storedEvents } from "./support/console-seed.ts";
import { pollUntil, startSystem, systemFixture, type RunningSystem } from "./support/system.ts";

/** Screenshots go here (git-ignored); the report names them. */
export const ARTIFACTS = resolve(import.meta.dirname, "../test-artifacts/console");

/**
 * The console in a real browser (Debian's chromium via playwright-core) against the real system
 * (origin + wrangler dev), seeded through the public API and the edge's ingest route.
 */
describe("console in a browser", () => {
  const fx = systemFixture();
  let sys: RunningSystem;
  let browser: Browser;
  let auditorKey = "";
  let risky = "";
  let calm = "";
  const api = apiClient(() => sys, fx.adminKey);
  const csp: string[] = [];
  const errors: string[] = [];
  const contexts: BrowserContext[] = [];

  async function newPage(): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(ctx);
    const page = await ctx.newPage();
    csp.push(...[]);
    const seen = await watchCsp(page);
    const errs = watchErrors(page);
    page.on("close", () => {
      csp.push(...seen);
      errors.push(...errs);
    });
    // Keep the arrays live for assertions made before the page closes.
    (page as Page & { csp?: string[]; errs?: string[] }).csp = seen;
    (page as Page & { csp?: string[]; errs?: string[] }).errs = errs;
    return page;
  }
  const cspOf = (p: Page) => (p as Page & { csp: string[] }).csp;
  const errorsOf = (p: Page) => (p as Page & { errs: string[] }).errs;

  async function signIn(page: Page, key: string): Promise<void> {
    await page.goto(`${sys.origin.url}/console`);
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/console\/agents$/);
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [sys, browser] = await Promise.all([startSystem(fx), launchChromium()]);
    auditorKey = (await api<{ data: { key: string } }>("POST", "/v1/api-keys", { name: "compliance", role: "auditor" })).body.data.key;
    const a = await enrolledAgent(sys, api, { name: "payments-bot", scopes: ["orders.*"] });
    const b = await enrolledAgent(sys, api, { name: "crm-helper", scopes: ["orders.*"] });
    risky = a.agent;
    calm = b.agent;
    const start = Date.now() - 3 * 3600_000;
    expect((await postEvents(sys, a.token, normalTrading(120, start, start + 120 * 20_000, "n"))).status).toBe(202);
    expect((await postEvents(sys, b.token, normalTrading(60, start, start + 60 * 20_000, "m"))).status).toBe(202);
    expect((await postEvents(sys, a.token, attackBurst(20, Date.now() - 60_000, { prefix: "x", gapMs: 500 }))).status).toBe(202);
    await storedEvents(api, risky, 140);
    await storedEvents(api, calm, 60);
    // The auto-revocation lands asynchronously: wait for it so the page shows it.
    await pollUntil(
      async () => ((await api<{ data: { status: string } }>("GET", `/v1/agents/${risky}`)).body.data.status === "suspended" ? true : undefined),
      15_000,
      100,
    );
    // Enough agents for a second page of the agents table (25 a page).
    for (let i = 0; i < 26; i++)
      await api("POST", "/v1/agents", {
        name: `filler-${String(i).padStart(2, "0")}`,
        model: { name: "m", version: "1", hash: `sha256:${"ab".repeat(32)}` },
        owner: { name: "Ops", email: "ops@bank.example" },
        scopes: ["crm.*"],
      });
  }, 240_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await sys?.stop();
    fx.cleanup();
  });

  it("sign-in: a wrong key is refused on the form; the right one yields an HttpOnly SameSite=Strict session cookie", async () => {
    const page = await newPage();
    await page.goto(`${sys.origin.url}/console`);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByLabel("API key").fill("kk_not-a-key");
    const refused = page.waitForResponse((r) => r.url().endsWith("/console/sign-in"));
    await page.getByRole("button", { name: "Sign in" }).click();
    expect((await refused).status()).toBe(401);
    await expect(page.getByRole("alert").textContent()).resolves.toContain("unknown or revoked");
    await page.getByLabel("API key").fill(fx.adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/console\/agents$/);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "kakunin_session");
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    // The cookie holds a random token, never the API key.
    expect(session!.value).not.toContain(fx.adminKey);
    expect(await page.evaluate("document.cookie")).toBe("");
    // Sign-in is audited.
    const audit = await api<{ data: { kind: string; entry: { actor: { role: string } } }[] }>("GET", "/v1/audit/entries?kind=console.signed_in&limit=1000");
    expect(audit.body.data.map((e) => e.entry.actor.role)).toContain("admin");
    expect(cspOf(page)).toEqual([]);
  });

  it("agents: status, band, sparkline and expiry per agent; filters; keyset paging; no serious axe violations", async () => {
    const page = await newPage();
    await signIn(page, fx.adminKey);
    const riskyRow = page.locator(`tr[data-agent-id="${risky}"]`);
    await expect(riskyRow.textContent()).resolves.toMatch(/payments-bot[\s\S]*suspended[\s\S]*high/);
    expect(await riskyRow.locator("svg.spark polyline").count()).toBe(1);
    await expect(page.locator(`tr[data-agent-id="${calm}"]`).textContent()).resolves.toMatch(/crm-helper[\s\S]*active[\s\S]*low[\s\S]*\d{4}-\d\d-\d\d/);
    expect(await page.locator("#agents tbody tr").count()).toBe(25);
    expect(await seriousAxeViolations(page)).toEqual([]);
    // Keyset paging: the second page holds the rest, none repeated.
    const first = await page.locator("#agents tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-agent-id")));
    await page.getByRole("link", { name: "Next page" }).click();
    const second = await page.locator("#agents tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-agent-id")));
    expect(second.length).toBe(28 - 25);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    // Filters, with the keyboard only.
    await page.goto(`${sys.origin.url}/console/agents`);
    await page.getByLabel("Risk band").selectOption("high");
    await page.getByLabel("Name contains").focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/band=high/);
    const ids = await page.locator("#agents tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-agent-id")));
    expect(ids).toEqual([risky]);
    expect(cspOf(page)).toEqual([]);
    expect(errorsOf(page)).toEqual([]);
  });

  it("agent page: identity, certificates, risk timeline with thresholds and marks, reasons on hover, events, audit proofs checked in the browser", async () => {
    const page = await newPage();
    await signIn(page, fx.adminKey);
    await page.getByRole("link", { name: "payments-bot" }).click();
    await page.waitForURL(new RegExp(`/console/agents/${risky}$`));
    await expect(page.locator("#main").textContent()).resolves.toMatch(/Alice Risk[\s\S]*gpt-4o 2024-08-06[\s\S]*sha256:/);
    await expect(page.locator("#certificates").textContent()).resolves.toMatch(/revoked[\s\S]*risk_threshold/);
    const chart = page.locator("#timeline[data-ready=true]");
    await chart.waitFor();
    expect(Number(await chart.getAttribute("data-points"))).toBe(140);
    expect(Number(await chart.getAttribute("data-marks"))).toBeGreaterThanOrEqual(2);
    // Hover near the right end (the burst): the tooltip shows that event's reasons.
    const box = (await page.locator("#timeline .u-over").boundingBox())!;
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    await expect(page.locator("#timeline-tip").textContent()).resolves.toMatch(/payments\.transfer[\s\S]*out_of_scope/);
    await expect(page.locator("#events").textContent()).resolves.toMatch(/payments\.transfer[\s\S]*out_of_scope/);
    await page.mouse.move(0, 0);
    // In-browser inclusion proof of the newest entry against the signed tree head.
    const first = page.locator("button.proof-check").first();
    const entry = await first.getAttribute("data-entry");
    await first.click();
    await page.locator(`#proof-${entry}[data-verified]`).waitFor();
    expect(await page.locator(`#proof-${entry}`).getAttribute("data-verified")).toBe("true");
    await page.evaluate("window.scrollTo(0, 0)");
    await page.screenshot({ path: join(ARTIFACTS, "agent.png") });
    await page.screenshot({ path: join(ARTIFACTS, "agent-full.png"), fullPage: true });
    expect(await seriousAxeViolations(page)).toEqual([]);
    // A forged entry (one byte appended to its canonical text in transit) fails the same check.
    await page.route("**/proof.json?entry=*", async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { canonical: string };
      await route.fulfill({ response: res, json: { ...body, canonical: `${body.canonical} ` } });
    });
    const second = page.locator("button.proof-check").nth(1);
    const entry2 = await second.getAttribute("data-entry");
    await second.click();
    await page.locator(`#proof-${entry2}[data-verified]`).waitFor();
    expect(await page.locator(`#proof-${entry2}`).getAttribute("data-verified")).toBe("false");
    expect(cspOf(page)).toEqual([]);
    expect(errorsOf(page)).toEqual([]);
  });

  it("without a session every page leads back to the sign-in form; a forged form post is refused", async () => {
    const r = await fetch(`${sys.origin.url}/console/agents`, { redirect: "manual" });
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/console");
    const page = await newPage();
    await signIn(page, fx.adminKey);
    const status = await page.evaluate(
      async () => (await fetch("/console/sign-out", { method: "POST", body: new URLSearchParams({ csrf: "forged" }) })).status,
    );
    expect(status).toBe(403);
    // The real sign-out revokes the session: the old cookie no longer opens a page.
    const cookie = (await page.context().cookies()).find((c) => c.name === "kakunin_session")!.value;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/console$/);
    const again = await fetch(`${sys.origin.url}/console/agents`, { redirect: "manual", headers: { cookie: `kakunin_session=${cookie}` } });
    expect(again.status).toBe(303);
  });

  it("the auditor's console is read-only: no action forms, and a posted action is 403", async () => {
    const page = await newPage();
    await signIn(page, auditorKey);
    await expect(page.locator("header").textContent()).resolves.toContain("auditor (read-only)");
    // The only form that posts is sign-out.
    const posting = await page.locator("form[method=post]").evaluateAll((fs) => fs.map((f) => f.getAttribute("action")));
    expect(posting).toEqual(["/console/sign-out"]);
    await page.goto(`${sys.origin.url}/console/agents/${risky}`);
    await page.locator("#timeline[data-ready=true]").waitFor();
    expect(await page.locator("form[method=post]").count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, "agent-auditor.png"), fullPage: true });
    // The review queue is readable, without decision forms; posting a decision anyway is 403.
    await page.goto(`${sys.origin.url}/console/reviews`);
    expect(await page.locator(`#queue [data-agent-id="${risky}"]`).count()).toBe(1);
    expect(await page.locator("form.review-form").count()).toBe(0);
    const csrf = await page.locator("input[name=csrf]").first().inputValue();
    const posted = await page.evaluate(
      async ([id, token]) =>
        (await fetch(`/console/agents/${id}/review`, { method: "POST", body: new URLSearchParams({ csrf: token!, decision: "clear", reason: "x" }) })).status,
      [risky, csrf],
    );
    expect(posted).toBe(403);
    expect((await page.goto(`${sys.origin.url}/console/health`))!.status()).toBe(403);
    await page.goto(`${sys.origin.url}/console/keys`);
    expect(await page.locator("#api-keys").count()).toBe(0);
    expect(cspOf(page)).toEqual([]);
  });

  it("review queue, tenant health, keys: each page renders for the admin, passes axe, and a review decision is recorded", async () => {
    const page = await newPage();
    await signIn(page, fx.adminKey);
    await page.getByRole("link", { name: "Tenant health" }).click();
    await page.waitForURL(/\/console\/health$/);
    await expect(page.locator("#prop-p50").textContent()).resolves.toMatch(/^\d+ ms$|^\d+\.\d s$/);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "health.png"), fullPage: true });
    await page.getByRole("link", { name: "API keys & credentials" }).click();
    await expect(page.locator("#api-keys").textContent()).resolves.toMatch(/compliance[\s\S]*auditor/);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByRole("link", { name: "Review queue" }).click();
    const item = page.locator(`#queue [data-agent-id="${risky}"]`);
    await expect(item.textContent()).resolves.toMatch(/auto-revoked[\s\S]*out_of_scope/);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "reviews.png"), fullPage: true });
    // Reinstate, with the keyboard: choose, type the reason, confirm the dialog.
    page.once("dialog", (d) => void d.accept());
    await item.getByLabel("Reinstate").check();
    await item.getByLabel(/^Reason/).fill("false positive: scheduled treasury sweep");
    await item.getByLabel(/^Reason/).press("Enter");
    await page.waitForURL(/done=/);
    await expect(page.locator("#review-done").textContent()).resolves.toContain("reinstate (active)");
    expect(await page.locator(`#queue [data-agent-id="${risky}"]`).count()).toBe(0);
    const agent = await api<{ data: { status: string } }>("GET", `/v1/agents/${risky}`);
    expect(agent.body.data.status).toBe("active");
    const audit = await api<{ data: { entry: { data: { decision: string; reason: string } } }[] }>(
      "GET",
      `/v1/audit/entries?kind=review.decided&agent_id=${risky}`,
    );
    expect(audit.body.data.map((e) => e.entry.data)).toEqual([
      expect.objectContaining({ decision: "reinstate", reason: "false positive: scheduled treasury sweep" }),
    ]);
    expect(cspOf(page)).toEqual([]);
    expect(errorsOf(page)).toEqual([]);
  });

  /** `kakunin audit report` as a user runs it: its own process, the root pinned, no config file. */
  function report(bundle: string, out: string, extra: string[] = []) {
    return spawnSync(process.execPath, [CLI, "audit", "report", bundle, "--root", join(fx.dir, "root.pem"), "--out", out, ...extra], {
      encoding: "utf8",
      env: { ...process.env, KAKUNIN_CONFIG: join(fx.dir, "no-config.json") },
      timeout: 120_000,
    });
  }

  it("evidence report: from a real bundle, verified first; valid self-contained HTML whose numbers are the bundle's; a PDF; a tampered bundle gets no report", async () => {
    const res = await fetch(`${sys.origin.url}/v1/agents/${risky}/evidence`, { headers: { authorization: `Bearer ${fx.adminKey}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    const bundleFile = join(fx.dir, "evidence.json");
    writeFileSync(bundleFile, text);
    const ca = (await api<{ data: { root: { certificate_pem: string } } }>("GET", "/v1/ca")).body.data;
    writeFileSync(join(fx.dir, "root.pem"), ca.root.certificate_pem);
    const html = join(ARTIFACTS, "evidence-report.html");
    const pdf = join(ARTIFACTS, "evidence-report.pdf");
    const r = report(bundleFile, html, ["--pdf", pdf]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^VERIFIED: [\s\S]*Report written to /);
    const page = readFileSync(html, "utf8");
    // Valid HTML (html-validate's standard rules) and self-contained: no script, no external asset.
    const validation = await new HtmlValidate({ extends: ["html-validate:standard"] }).validateString(page);
    expect(validation.results.flatMap((x) => x.messages.map((m) => `${m.ruleId}: ${m.message} (line ${m.line})`))).toEqual([]);
    expect(page).not.toMatch(/<script|<link|<img|<iframe|src=|url\(|@import/i);
    expect(page).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);

    // Every number the report prints, recomputed here from the bundle itself.
    const bundle = (
      JSON.parse(text) as {
        data: {
          // kakunin-evidence/3: the audit entries themselves, with the shared proof's base64 strings between them.
          entries: ({ index: number; kind: string; data: { event: { action: string }; band: string } } | string)[];
          tree_head: { tree_size: number; root_hash: string };
          agent: { name: string; owner: { name: string }; model: { name: string; version: string; hash: string } };
        };
      }
    ).data;
    const entries = bundle.entries.filter((e) => typeof e !== "string");
    const events = entries.filter((e) => e.kind === "event.ingested");
    const textOf = (id: string) => new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(page)?.[1];
    expect(textOf("count-entries")).toBe(entries.length.toLocaleString("en-US"));
    expect(textOf("count-events")).toBe(events.length.toLocaleString("en-US"));
    for (const band of ["low", "medium", "high"]) expect(textOf(`count-${band}`)).toBe(String(events.filter((e) => e.data.band === band).length));
    expect(textOf("tree-size")).toBe(bundle.tree_head.tree_size.toLocaleString("en-US"));
    expect(textOf("root-hash")).toBe(bundle.tree_head.root_hash);
    const byAction = new Map<string, number>();
    for (const e of events) byAction.set(e.data.event.action, (byAction.get(e.data.event.action) ?? 0) + 1);
    const table = /<table id="by-action">([\s\S]*?)<\/table>/.exec(page)![1]!;
    const rows = [...table.matchAll(/<tr><td><code>([^<]+)<\/code><\/td><td class="num">([\d,]+)<\/td>/g)].map((m) => [m[1], Number(m[2]!.replace(/,/g, ""))]);
    expect(new Map(rows as [string, number][])).toEqual(byAction);
    const decisions = entries.filter((e) => ["risk.decision", "review.decided", "certificate.revoked", "agent.suspension_lifted"].includes(e.kind)).length;
    expect(decisions).toBeGreaterThanOrEqual(2);
    expect([.../<table id="decision-table">([\s\S]*?)<\/table>/.exec(page)![1]!.matchAll(/<tr><td class="num">/g)].length).toBe(decisions);
    expect(page).toContain(bundle.agent.owner.name);
    expect(page).toContain(bundle.agent.model.hash);
    expect(page).toContain(createHash("sha256").update(text).digest("hex"));
    expect(page).toMatch(/Not legal advice/);

    // The PDF: a real PDF, and its text (poppler) says what the HTML says.
    const bytes = readFileSync(pdf);
    expect(bytes.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(bytes.length).toBeGreaterThan(10_000);
    const pdfText = execFileSync("pdftotext", ["-layout", pdf, "-"], { encoding: "utf8" });
    expect(pdfText).toContain(bundle.agent.name);
    expect(pdfText).toMatch(/VERIFIED/);
    expect(pdfText).toContain(bundle.tree_head.root_hash.slice(0, 32));
    execFileSync("pdftoppm", ["-png", "-r", "60", "-f", "1", "-l", "1", pdf, join(ARTIFACTS, "evidence-report-page")]);
    expect(existsSync(join(ARTIFACTS, "evidence-report-page-1.png")) || existsSync(join(ARTIFACTS, "evidence-report-page-01.png"))).toBe(true);

    // A tampered copy: one burst transfer's amount rewritten. No report, the failure instead, exit 1.
    const forged = JSON.parse(text) as { data: { entries: ({ kind: string; data: { event: { amount: number } } } | string)[] } };
    const target = forged.data.entries.find((e) => typeof e !== "string" && e.kind === "event.ingested" && e.data.event.amount === 250_000);
    if (!target || typeof target === "string") throw new Error("no 250000 transfer in the bundle");
    target.data.event.amount = 25;
    const forgedFile = join(fx.dir, "evidence.tampered.json");
    writeFileSync(forgedFile, JSON.stringify(forged));
    const badOut = join(fx.dir, "tampered-report.html");
    const bad = report(forgedFile, badOut, ["--pdf", join(fx.dir, "tampered-report.pdf")]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/No report written: the bundle did not verify[\s\S]*✗ no entry modified/);
    expect(existsSync(badOut)).toBe(false);
    expect(existsSync(join(fx.dir, "tampered-report.pdf"))).toBe(false);
  });
});
