import { describe, expect, it } from "vitest";
import { newState, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";

const T0 = Date.parse("2026-03-02T09:00:00Z");
const SCOPES = ["payments.*"];

/** A payments agent: transfers and quotes of 800–1,200 EUR, one a minute in office hours. */
function payer(n: number): { s: MonitorState; t: number } {
  const s = newState();
  let t = T0;
  for (let i = 0; i < n; i++) {
    t += 60_000;
    if (new Date(t).getUTCHours() >= 17) t += 16 * 3_600_000;
    scoreEvent(
      s,
      {
        id: `w${i}`,
        ts: t,
        type: "transaction",
        action: ["payments.transfer", "payments.quote"][i % 2]!,
        resource: `payment/${i}`,
        amount: 800 + ((i * 37) % 400),
        currency: "EUR",
        outcome: "success",
        latencyMs: 100,
      },
      SCOPES,
    );
  }
  return { s, t };
}

function transfer(id: string, ts: number, amount: number, currency?: string): ScoredInput {
  return {
    id,
    ts,
    type: "transaction",
    action: "payments.transfer",
    resource: `payment/${id}`,
    amount,
    ...(currency && { currency }),
    outcome: "success",
    latencyMs: 100,
  };
}

const amountReason = (r: ReturnType<typeof scoreEvent>) => r.event.reasons.find((x) => x.feature.startsWith("amount_"));

describe("amounts in a currency the agent has (almost) never used", () => {
  it("a transfer 10⁶× the agent's largest is judged whatever currency it names, or none", () => {
    const { s, t } = payer(1_500);
    const eur = scoreEvent(structuredClone(s), transfer("eur", t + 60_000, 1e9, "EUR"), SCOPES);
    expect(eur.event.band).toBe("high");
    // Before: no series of its own, no agent-wide series of the currency, so no amount feature at
    // all (0.47, medium, on the new payment id alone): switching currency, or leaving it out, hid
    // any amount from amount_over_max.
    for (const currency of ["USD", "JPY", undefined]) {
      const r = scoreEvent(structuredClone(s), transfer(`x${currency}`, t + 60_000, 1e9, currency), SCOPES);
      expect(amountReason(r)?.feature, String(currency)).toBe("amount_over_max");
      expect(amountReason(r)!.detail).toContain("in any currency");
      expect(r.event.band, String(currency)).toBe("high");
    }
  });

  it("a second currency at the agent's usual size is not an amount anomaly", () => {
    const { s, t } = payer(1_500);
    for (let i = 0; i < 12; i++) {
      const r = scoreEvent(s, transfer(`usd${i}`, t + (i + 1) * 60_000, 900 + i * 20, "USD"), SCOPES);
      expect(amountReason(r)?.contribution ?? 0).toBeLessThan(0.1);
    }
  });

  it("a flood of never-used currencies that evicts the agent's own series does not unjudge its next transfer", () => {
    const { s, t } = payer(300);
    // 14 fresh currencies, each used more often than the agent ever used EUR (300 values agent-wide),
    // fill the series cap (32) beside the agent's own; then each new (action, currency) pair, used as
    // often, evicts the series used least: the agent's own, per action and agent-wide. Small amounts,
    // in scope, no alarm on their own.
    let at = t;
    const codes = Array.from({ length: 14 }, (_, c) => `QA${String.fromCharCode(65 + c)}`);
    for (const code of codes) for (let i = 0; i < 310; i++) scoreEvent(s, transfer(`f${code}-${i}`, (at += 1_000), 1 + (i % 5), code), SCOPES);
    for (const [j, code] of codes.slice(0, 4).entries())
      for (let i = 0; i < 310; i++) scoreEvent(s, { ...transfer(`g${j}-${i}`, (at += 1_000), 2, code), action: `payments.refund_${j}` }, SCOPES);
    expect(s.amounts["payments.transfer|EUR"]).toBeUndefined();
    expect(s.amounts["\u0001|EUR"]).toBeUndefined();
    const r = scoreEvent(s, transfer("big", at + 60_000, 1e9, "EUR"), SCOPES);
    expect(amountReason(r)?.feature).toBe("amount_over_max");
  });
  it("at the series cap, a newly adopted currency still gets series of its own (its two new series do not evict each other)", () => {
    // 30 payment tools in EUR: 30 series, the agent-wide EUR one and the any-currency one, the cap (32).
    const s = newState();
    let t = T0;
    for (let i = 0; i < 3_000; i++) {
      t += 60_000;
      if (new Date(t).getUTCHours() >= 17) t += 16 * 3_600_000;
      scoreEvent(s, { ...transfer(`w${i}`, t, 800 + ((i * 37) % 400), "EUR"), action: `payments.vendor_${i % 30}` }, SCOPES);
    }
    expect(Object.keys(s.amounts)).toHaveLength(32);
    // A vendor billed in yen from now on, ~150× the euro amounts. Before, at the cap, the new
    // (action, JPY) series was evicted by the new agent-wide JPY series learned right after it, and
    // the other way round on the next payment, so neither ever held a value: every yen payment was
    // judged against nothing, and with the any-currency series, against the euro amounts (high).
    const late: number[] = [];
    for (let i = 0; i < 24; i++) {
      t += 60_000;
      const r = scoreEvent(s, { ...transfer(`jpy${i}`, t, 150_000 + ((i * 7_919) % 40_000), "JPY"), action: "payments.vendor_0" }, SCOPES);
      if (i >= 12) late.push(amountReason(r)?.contribution ?? 0);
    }
    expect(s.amounts["\u0001|JPY"]?.seen).toBe(24);
    expect(Math.max(...late)).toBeLessThan(0.3);
  });
});
