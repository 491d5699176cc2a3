/**
 * One-line text shown to people (agent names, model name and version, owner name, credential and
 * API key labels) must be one visible line. Names of only spaces were already refused (trimmed to
 * nothing), but a name of only zero-width characters (U+200B, U+2060, tag characters) was accepted
 * and became an agent certificate's CN that no person can see or tell apart from another; and
 * U+2028 / U+2029, line and paragraph separators (a mandatory line break in the Unicode line
 * breaking rules, so in the console and the HTML report), let a "one-line" name print a second,
 * forged line. Both are refused at the door (422 naming the field) and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";
import { opensslText } from "./openssl.ts";

let o: TestOrigin;
beforeAll(async () => {
  o = await startTestOrigin("pglite");
});
afterAll(async () => {
  await o.close();
});

const INVISIBLE = ["\u200b", "\u200b\u2060\ufeff", "\u{e0041}\u{e0042}", " \u200c \u200d ", "\u3164", "\u115f\u1160", "\u2800"];
const LINE_BREAKING = ["bot\u2028status: revoked", "bot\u2029x"];

async function counts(): Promise<{ agents: number; entries: number }> {
  const agents = (await o.json<{ data: unknown[] }>("GET", "/v1/agents?limit=100")).body.data.length;
  const head = await o.json<{ data: { tree_size: number } }>("GET", "/v1/audit/tree-head");
  return { agents, entries: head.body.data.tree_size };
}

describe("one-line names are one visible line", () => {
  it("POST /v1/agents refuses invisible-only and line-separated names, models and owners; nothing changes", async () => {
    const before = await counts();
    for (const bad of [...INVISIBLE, ...LINE_BREAKING]) {
      for (const [path, body] of [
        ["name", agentBody({ name: bad })],
        ["model.name", agentBody({ model: { name: bad, version: "1", hash: `sha256:${"ab".repeat(32)}` } })],
        ["model.version", agentBody({ model: { name: "gpt", version: bad, hash: `sha256:${"ab".repeat(32)}` } })],
        ["owner.name", agentBody({ owner: { name: bad, email: "bob@bank.example" } })],
      ] as const) {
        const r = await o.json<{ type: string; errors: { path: string }[] }>("POST", "/v1/agents", { body });
        const label = `${path} ${JSON.stringify(bad)}`;
        expect(r.status, label).toBe(422);
        expect(r.res.headers.get("content-type"), label).toContain("application/problem+json");
        expect(r.body.type, label).toBe("urn:kakunin:problem:validation-failed");
        expect(
          r.body.errors.map((e) => e.path),
          label,
        ).toContain(path);
      }
    }
    expect(await counts()).toEqual(before);
  });

  it("PATCH and labels refuse them too", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const before = await counts();
    for (const bad of [...INVISIBLE, ...LINE_BREAKING]) {
      expect((await o.json("PATCH", `/v1/agents/${agent}`, { body: { name: bad } })).status, JSON.stringify(bad)).toBe(422);
      expect((await o.json("POST", `/v1/agents/${agent}/credentials`, { body: { name: bad } })).status, JSON.stringify(bad)).toBe(422);
      expect((await o.json("POST", "/v1/api-keys", { body: { name: bad, role: "auditor" } })).status, JSON.stringify(bad)).toBe(422);
    }
    expect(await counts()).toEqual(before);
    expect((await o.json<{ data: { name: string } }>("GET", `/v1/agents/${agent}`)).body.data.name).toBe("trading-bot-7f3a");
  });

  it("names with visible characters beside joiners and marks stay accepted and certify", async () => {
    // An emoji ZWJ sequence, a right-to-left name with its mark, a word with a zero-width non-joiner.
    for (const name of ["\u{1f469}\u200d\u{1f4bb} ops", "\u05e9\u05dc\u05d5\u05dd \u200f(bot)", "Ro\u200cbot"]) {
      const r = await o.json<{ data: { id: string; name: string } }>("POST", "/v1/agents", { body: agentBody({ name }) });
      expect(r.status, JSON.stringify(name)).toBe(201);
      expect(r.body.data.name).toBe(name);
      const c = await o.json<{ data: { certificate_pem: string } }>("POST", `/v1/agents/${r.body.data.id}/certify`);
      expect(c.status).toBe(201);
      expect(opensslText(c.body.data.certificate_pem)).toMatch(/Subject: CN=.+,O=default/);
    }
  });
});
