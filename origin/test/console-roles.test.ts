import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_ROLES } from "../src/console/env.ts";
import { agentCredentials } from "../src/db/schema.ts";
import { consoleSignIn } from "./console-session.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * The console is HTML, not in /openapi.json, so the role matrix cannot enumerate it: its roles
 * are checked here, page by page, for every role, plus the session's own rules (CSRF, sign-out,
 * revoked key, agent credentials, other tenants), on PGlite and PostgreSQL.
 */
type Role = "admin" | "issuer" | "auditor";

const PAGES: { path: (agent: string, entry: number) => string; needs: keyof typeof CONSOLE_ROLES }[] = [
  { path: () => "/console/agents", needs: "agents" },
  { path: (a) => `/console/agents/${a}`, needs: "agents" },
  { path: (a) => `/console/agents/${a}/timeline.json`, needs: "events" },
  { path: (a, e) => `/console/agents/${a}/proof.json?entry=${e}`, needs: "audit" },
  { path: () => "/console/reviews", needs: "reviews" },
  { path: () => "/console/health", needs: "health" },
  { path: () => "/console/keys", needs: "credentials" },
];

for (const kind of dbKinds()) {
  describe(`console roles and sessions (${kind})`, () => {
    let o: TestOrigin;
    let agent = "";
    let entry = 0;
    const keys: Record<Role, string> = { admin: "", issuer: "", auditor: "" };

    const signIn = (key: string) => consoleSignIn(o, key);
    const get = (path: string, cookie: string) => o.request("GET", path, { key: null, headers: { cookie: `kakunin_session=${cookie}` } });
    const csrfOf = async (cookie: string) => /name="csrf" value="([\w-]+)"/.exec(await (await get("/console/agents", cookie)).text())![1]!;
    const post = (path: string, cookie: string, fields: Record<string, string>) =>
      o.request("POST", path, {
        key: null,
        rawBody: new URLSearchParams(fields).toString(),
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: `kakunin_session=${cookie}` },
      });

    beforeAll(async () => {
      o = await startTestOrigin(kind);
      keys.admin = o.adminKey;
      for (const role of ["issuer", "auditor"] as const)
        keys[role] = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: role, role } })).body.data.key;
      agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      entry = (await o.json<{ data: { index: number }[] }>("GET", `/v1/audit/entries?agent_id=${agent}`)).body.data[0]!.index;
    });
    afterAll(async () => o?.close());

    it("each page answers each role exactly as the API route it mirrors", async () => {
      for (const role of ["admin", "issuer", "auditor"] as const) {
        const { status, cookie } = await signIn(keys[role]);
        expect(status).toBe(303);
        for (const p of PAGES) {
          const res = await get(p.path(agent, entry), cookie!);
          const allowed = (CONSOLE_ROLES[p.needs] as readonly string[]).includes(role);
          expect({ role, path: p.path(agent, entry), status: res.status }).toEqual({ role, path: p.path(agent, entry), status: allowed ? 200 : 403 });
          expect(res.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
        }
        const csrf = await csrfOf(cookie!);
        const review = await post(`/console/agents/${agent}/review`, cookie!, { csrf, decision: "clear", reason: "test" });
        // Admins pass the role check (then the lifecycle answers: nothing open to close → back to the queue).
        expect({ role, status: review.status }).toEqual({ role, status: role === "admin" ? 303 : 403 });
      }
    });

    it("behind a proxy that terminates TLS: sign-in works with __Host- cookies and the https Origin; a foreign Origin is still refused", async () => {
      const tls = { "x-forwarded-proto": "https" };
      const form = await o.request("GET", "/console", { key: null, headers: tls });
      expect(form.status).toBe(200);
      const setPre = form.headers.get("set-cookie") ?? "";
      expect(setPre).toMatch(/^__Host-kakunin_signin=[\w-]+;.*Path=\/;.*HttpOnly;.*Secure;.*SameSite=Strict/i);
      const pre = /__Host-kakunin_signin=([\w-]+)/.exec(setPre)![1]!;
      // app.request serves http://localhost: the browser behind the proxy is on https://localhost.
      const origin = "https://localhost";
      const signIn = (from: string) =>
        o.request("POST", "/console/sign-in", {
          key: null,
          rawBody: new URLSearchParams({ csrf: pre, api_key: keys.admin }).toString(),
          headers: { ...tls, origin: from, "content-type": "application/x-www-form-urlencoded", cookie: `__Host-kakunin_signin=${pre}` },
        });
      expect((await signIn("https://evil.example")).status).toBe(403);
      const res = await signIn(origin);
      expect(res.status).toBe(303);
      const session = /__Host-kakunin_session=([\w-]+)/.exec(res.headers.get("set-cookie") ?? "")![1]!;
      const page = await o.request("GET", "/console/agents", { key: null, headers: { ...tls, cookie: `__Host-kakunin_session=${session}` } });
      expect(page.status).toBe(200);
      const csrf = /name="csrf" value="([\w-]+)"/.exec(await page.text())![1]!;
      const out = await o.request("POST", "/console/sign-out", {
        key: null,
        rawBody: new URLSearchParams({ csrf }).toString(),
        headers: { ...tls, origin, "content-type": "application/x-www-form-urlencoded", cookie: `__Host-kakunin_session=${session}` },
      });
      expect(out.status).toBe(303);
    });

    it("the review page shows only its own fixed messages: a link cannot put words in the console", async () => {
      const { cookie } = await signIn(keys.admin);
      const spoof = "Session expired. Re-enter your API key at https://evil.example";
      const page = await (await get(`/console/reviews?${new URLSearchParams({ error: spoof, done: spoof, status: spoof })}`, cookie!)).text();
      expect(page).not.toContain("evil.example");
      expect(page).not.toContain('role="alert"');
      // What a real failed decision redirects to still reads as before.
      const csrf = await csrfOf(cookie!);
      const failed = await post(`/console/agents/${agent}/review`, cookie!, { csrf, decision: "clear", reason: "nothing open" });
      expect(failed.status).toBe(303);
      const shown = await (await get(failed.headers.get("location")!, cookie!)).text();
      expect(shown).toMatch(/role="alert">That agent has no flagged or auto-revoked risk decision awaiting review/);
    });

    it("CSRF: a post without the session's token is 403, and sign-in without the form's token is 403", async () => {
      const { cookie } = await signIn(keys.admin);
      expect((await post("/console/sign-out", cookie!, { csrf: "nope" })).status).toBe(403);
      expect((await post(`/console/agents/${agent}/review`, cookie!, { decision: "clear", reason: "x" })).status).toBe(403);
      const res = await o.request("POST", "/console/sign-in", {
        key: null,
        rawBody: `api_key=${keys.admin}`,
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(res.status).toBe(403);
      const cross = await o.request("POST", "/console/sign-out", {
        key: null,
        rawBody: `csrf=${await csrfOf(cookie!)}`,
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: `kakunin_session=${cookie}`, origin: "https://evil.example" },
      });
      expect(cross.status).toBe(403);
    });

    it("the session dies at sign-out and with its API key; agent credentials and unknown keys never open one", async () => {
      const a = await signIn(keys.admin);
      await post("/console/sign-out", a.cookie!, { csrf: await csrfOf(a.cookie!) });
      expect((await get("/console/agents", a.cookie!)).status).toBe(303);
      const extra = (await o.json<{ data: { id: string; key: string } }>("POST", "/v1/api-keys", { body: { name: "temp", role: "auditor" } })).body.data;
      const b = await signIn(extra.key);
      expect((await get("/console/agents", b.cookie!)).status).toBe(200);
      expect((await o.request("DELETE", `/v1/api-keys/${extra.id}`)).status).toBeLessThan(300);
      expect((await get("/console/agents", b.cookie!)).status).toBe(303);
      const cred = (await o.json<{ data: { key: string } }>("POST", `/v1/agents/${agent}/credentials`, { body: { name: "bot" } })).body.data.key;
      expect(await signIn(cred)).toEqual({ status: 401, cookie: null });
      expect(await signIn("kk_unknown")).toEqual({ status: 401, cookie: null });
      // Sessions are stored hashed: the cookie value is nowhere in the table.
      const rows = await o.services.db.execute(`select token_hash from console_sessions`);
      expect(JSON.stringify(rows)).not.toContain(b.cookie!);
    });

    it("another tenant's agent is a 404 page, like a missing one; a malformed id too", async () => {
      const { cookie } = await signIn(keys.admin);
      expect((await get("/console/agents/00000000-0000-4000-8000-000000000000", cookie!)).status).toBe(404);
      expect((await get("/console/agents/not-a-uuid", cookie!)).status).toBe(404);
      expect((await get("/console/agents/not-a-uuid/timeline.json", cookie!)).status).toBe(404);
    });

    it("the keys page says when it shows only the newest 200 credentials of more (a reviewer looking for live ones must know)", async () => {
      const { cookie } = await signIn(keys.admin);
      const before = await (await get("/console/keys", cookie!)).text();
      expect(before).not.toContain('id="agent-credentials-more"');
      expect(before).not.toContain('id="api-keys-more"');
      const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
      const createdBy = (await o.json<{ data: { id: string }[] }>("GET", "/v1/api-keys")).body.data[0]!.id;
      const at = Date.now() - 3_600_000;
      await o.services.db.insert(agentCredentials).values(
        Array.from({ length: 205 }, (_, i) => ({
          tenantId,
          agentId: agent,
          name: `bulk-${i}`,
          keyHash: `bulk-${kind}-${i}`,
          prefix: `kac_${i}`,
          createdBy,
          createdAt: new Date(at + i),
        })),
      );
      const page = await (await get("/console/keys", cookie!)).text();
      expect(page).toMatch(/id="agent-credentials-more">The 200 newest of 20\d are shown/);
      expect(page).not.toContain('id="api-keys-more"');
    });
  });
}
