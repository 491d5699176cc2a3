/**
 * One stored event, one `event.ingested` entry. A forwarded batch naming the same (agent, event_id)
 * twice stored one row (the unique index) but appended an entry for each copy: the log then said
 * the event happened twice, and the second copy's content (score, reasons, attributes), which was
 * never stored, was in the log as if it had been. The first copy is the one stored and audited.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, dbKinds, forwardedEvent, postInternal, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Entry {
  kind: string;
  entry: { data: { event: { event_id: string; action: string } } };
}

describe.each(dbKinds())("an event is audited once on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("a batch that carries one event_id twice stores it once and audits it once, as stored", async () => {
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
    const ev = (action: string) => ({ event_id: "twice", timestamp: new Date().toISOString(), type: "tool_call", action, outcome: "success" });
    const r = await postInternal(o, "/internal/v1/events", {
      events: [forwardedEvent({ agent, tenant, serial }, ev("orders.place")), forwardedEvent({ agent, tenant, serial }, ev("orders.cancel"))],
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { data: { stored: number; duplicates: number } }).data).toMatchObject({ stored: 1, duplicates: 1 });
    const stored = (await o.json<{ data: { event_id: string; action: string }[] }>("GET", `/v1/agents/${agent}/events`)).body.data;
    expect(stored.map((e) => [e.event_id, e.action])).toEqual([["twice", "orders.place"]]);
    const audited = (await o.json<{ data: Entry[] }>("GET", `/v1/audit/entries?agent_id=${agent}&kind=event.ingested`)).body.data;
    expect(audited.map((e) => [e.entry.data.event.event_id, e.entry.data.event.action])).toEqual([["twice", "orders.place"]]);
  });
});
