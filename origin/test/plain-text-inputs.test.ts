/**
 * Names, models, reasons and event fields are shown to people: in the CLI (a relying party's
 * `kakunin verify`, `agents get`, `risk`), the console and the HTML report. An ESC sequence in a
 * model name or a revocation reason could hide "not valid" on a terminal, and a U+202E in an
 * agent's action reversed the amount beside it in the report. They are refused at the door (422
 * naming the field), as control characters in agent names already were. Line breaks stay allowed
 * in free-text reasons, and right-to-left names with their bidi marks stay allowed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptedEventSchema, eventSchema } from "@kakunin/shared";
import { agentBody, forwardedEvent, postInternal, startTestOrigin, type TestOrigin } from "./harness.ts";

let o: TestOrigin;
let tenant = "";
beforeAll(async () => {
  o = await startTestOrigin("pglite");
  tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
});
afterAll(async () => {
  await o.close();
});

const STEERING = ["\u001b[8m", "\u009b2J", "\u202e", "\u2066", "\u0007", "\r"];

describe("text shown to people carries no terminal or bidi controls", () => {
  it("agent create and patch refuse them in the name, model and owner (422 naming the field)", async () => {
    for (const c of STEERING) {
      for (const [path, body] of [
        ["model.version", agentBody({ model: { name: "gpt", version: `1${c}x`, hash: `sha256:${"ab".repeat(32)}` } })],
        ["model.name", agentBody({ model: { name: `gpt${c}x`, version: "1", hash: `sha256:${"ab".repeat(32)}` } })],
        ["owner.name", agentBody({ owner: { name: `Bob${c}x`, email: "bob@bank.example" } })],
        ["name", agentBody({ name: `bot${c}x` })],
      ] as const) {
        const r = await o.json<{ type: string; errors: { path: string }[] }>("POST", "/v1/agents", { body });
        expect(r.status, `${path} ${JSON.stringify(c)}`).toBe(422);
        expect(r.body.errors.map((e) => e.path)).toContain(path);
      }
    }
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    expect((await o.json("PATCH", `/v1/agents/${agent}`, { body: { owner: { name: "Bob\u202eevil" } } })).status).toBe(422);
    // A right-to-left owner name with its marks is a name, not an attack.
    expect((await o.json("PATCH", `/v1/agents/${agent}`, { body: { owner: { name: "\u05d3\u05e0\u05d4 \u200f(Ops)" } } })).status).toBe(200);
  });

  it("revocation and review reasons refuse them, and keep line breaks", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    for (const c of STEERING.filter((x) => x !== "\r")) {
      expect((await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: `leaked${c}` } })).status, JSON.stringify(c)).toBe(422);
      expect((await o.json("POST", `/v1/agents/${agent}/review`, { body: { decision: "clear", reason: `ok${c}` } })).status, JSON.stringify(c)).toBe(422);
    }
    expect((await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "key leaked\r\nsee ticket 42" } })).status).toBe(200);
  });

  it("an event's action and resource refuse them at the ingest door; a resource keeps tabs and line breaks", () => {
    const event = { event_id: "e1", timestamp: new Date().toISOString(), type: "tool_call", action: "orders.place", resource: "orders/1", outcome: "success" };
    expect(eventSchema.safeParse(event).success).toBe(true);
    for (const c of STEERING) {
      expect(eventSchema.safeParse({ ...event, action: `payments.${c}feoh` }).success, JSON.stringify(c)).toBe(false);
      if (c !== "\r") expect(eventSchema.safeParse({ ...event, resource: `accounts/${c}1` }).success, JSON.stringify(c)).toBe(false);
    }
    expect(eventSchema.safeParse({ ...event, resource: "SELECT *\r\n\tFROM accounts" }).success).toBe(true);
  });

  it("events an older edge already accepted under its rules are stored, not refused at the origin (forwarding, dead-letter replay)", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
    const r = await postInternal(o, "/internal/v1/events", {
      events: [
        forwardedEvent(
          { agent, tenant, serial },
          {
            event_id: "old-edge-1",
            timestamp: new Date().toISOString(),
            type: "tool_call",
            action: "orders.\u202eplace",
            resource: "orders/\u001b[1",
            outcome: "success",
          },
        ),
      ],
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { data: { stored: number } }).data.stored).toBe(1);
    expect(
      acceptedEventSchema.safeParse({
        event_id: "x",
        timestamp: new Date().toISOString(),
        type: "tool_call",
        action: "a\u009bb",
        resource: "r\u202e",
        outcome: "success",
      }).success,
    ).toBe(true);
  });
});
