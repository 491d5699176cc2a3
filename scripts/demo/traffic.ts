/**
 * The behaviour the demo posts: an ordinary trading day, then an attack. Deterministic, so every
 * run tells the same story (the scores come from the edge's real anomaly model, not from here).
 */
export interface DemoEvent {
  event_id: string;
  timestamp: string;
  type: "tool_call" | "transaction";
  action: string;
  resource: string;
  amount?: number;
  currency?: string;
  outcome: "success" | "error";
  latency_ms?: number;
}

export const SCOPES = ["orders.*", "crm.lookup_customer"];

/**
 * `n` quotes and orders of about 100 EUR, evenly spread over [startMs, endMs). The edge scores each
 * event at its own timestamp, so a stretch of past activity can be replayed in one request.
 * (Also the console's browser test's traffic; `prefix` keeps event ids apart between agents.)
 */
export function normalTrading(n: number, startMs: number, endMs: number, prefix = "normal"): DemoEvent[] {
  const step = (endMs - startMs) / n;
  return Array.from({ length: n }, (_, i) => {
    const place = i % 3 === 0;
    return {
      event_id: `${prefix}-${i}`,
      timestamp: new Date(Math.round(startMs + i * step)).toISOString(),
      type: "tool_call",
      action: place ? "orders.place" : "orders.quote",
      resource: "instrument/EURUSD",
      ...(place ? { amount: 90 + ((i * 37) % 25), currency: "EUR" } : {}),
      outcome: i % 50 === 7 ? "error" : "success",
      latency_ms: 80 + (i % 7) * 5,
    };
  });
}

/** A burst of large transfers to fresh accounts, an action the agent was never granted, `gapMs` apart. */
export function attackBurst(n: number, startMs: number, { prefix = "burst", gapMs = 100 } = {}): DemoEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    event_id: `${prefix}-${i}`,
    timestamp: new Date(startMs + i * gapMs).toISOString(),
    type: "transaction",
    action: "payments.transfer",
    resource: `accounts/${9000 + i}`,
    amount: 250_000,
    currency: "EUR",
    outcome: "success",
  }));
}
