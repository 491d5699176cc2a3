/**
 * A reason's detail quotes the agent's own text. Resource kinds were cut at 96 UTF-16 units (object
 * collections at 64), which can split an emoji's surrogate pair: the high alert then carried a lone
 * surrogate, the origin's alert schema refused it ("malformed Unicode"), and after six retries the
 * edge dead-lettered it, so the agent that earned it was never decided on, revoked or reviewed.
 * Every reason the scorer emits is now well-formed and within the wire's limits.
 */
import { describe, expect, it } from "vitest";
import { isWellFormedText, newState, riskAlertSchema, scoreEvent, type ScoredInput } from "@kakunin/shared";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const SCOPES = ["orders.*"];

const ev = (id: string, ts: number, action: string, resource: string): ScoredInput => ({ id, ts, type: "tool_call", action, resource, outcome: "success" });

describe("reason details are text every store takes", () => {
  it("an out-of-scope event on a resource of emoji goes high with well-formed reasons the origin's alert schema accepts", () => {
    const s = newState();
    let t = T0;
    for (let i = 0; i < 2000; i++) scoreEvent(s, ev(`n${i}`, (t += 60_000), i % 3 ? "orders.quote" : "orders.place", `orders/${i % 40}`), SCOPES);
    // 3 + 12 × (7 emoji + ".") units: the 96-unit cut lands inside a surrogate pair.
    const resource = `bx.${Array.from({ length: 12 }, () => "😀".repeat(7)).join(".")}`;
    const out = scoreEvent(s, ev("attack", (t += 60_000), "payments.send", resource), SCOPES);
    expect(out.event.band).toBe("high");
    const reasons = [...out.event.reasons, ...out.risk.reasons];
    expect(reasons.length).toBeGreaterThan(0);
    for (const r of reasons) {
      expect(isWellFormedText(r.detail), r.detail).toBe(true);
      expect([...r.detail].length).toBeLessThanOrEqual(512);
    }
    const alert = {
      alert_id: "a1",
      agent_id: "6f1c0000-0000-4000-8000-000000000000",
      tenant_id: "7f1c0000-0000-4000-8000-000000000000",
      serial_number: "4d2f",
      score: out.risk.score,
      reasons: out.risk.reasons,
      event_ids: ["attack"],
      triggered_at: new Date(t).toISOString(),
    };
    expect(riskAlertSchema.safeParse(alert).error?.issues ?? []).toEqual([]);
  });
});
