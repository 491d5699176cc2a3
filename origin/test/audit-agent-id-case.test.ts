import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../src/audit/append.ts";
import { SYSTEM } from "../src/audit/types.ts";
import { auditEntries } from "../src/db/schema.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * The audit log keys an agent's own chain by the id's text. Routes lower-case ids where they come
 * in (cli/test/evidence-id-case.test.ts); the log holds it for any other caller too (the console's
 * review form passed the path's spelling until 2026-12-07): an upper-case spelling joins the
 * agent's one chain instead of starting a second one at agent_seq 0.
 */
describe.each(dbKinds())("audit entries about an agent named in upper case, on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("continue the agent's chain under its canonical id", async () => {
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const actor = SYSTEM("test");
    await o.services.db.transaction((tx) =>
      appendAudit(tx, tenant, [{ kind: "agent.updated", actor, agentId: agent.toUpperCase(), data: { note: "upper" }, at: new Date() }]),
    );
    const rows = await o.services.db.select().from(auditEntries).where(eq(auditEntries.agentId, agent)).orderBy(asc(auditEntries.idx));
    const chain = rows.map((r) => JSON.parse(r.canonical) as { agent_id: string; agent_seq: number });
    expect(chain.map((e) => e.agent_id)).toEqual(chain.map(() => agent));
    expect(chain.map((e) => e.agent_seq)).toEqual(chain.map((_, i) => i));
    expect(chain.length).toBeGreaterThanOrEqual(2);
  });
});
