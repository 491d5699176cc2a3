import type { SuiteSpec } from "./suite.ts";

// A fixed "now" keeps the in-process run byte-for-byte reproducible (a Monday, 00:00 UTC).
const END = Date.UTC(2025, 5, 16);

/** Tuning suite. */
export const DEV: SuiteSpec = {
  name: "dev", seed: 0x5eed01, end: END,
  kinds: { trading: 6, support: 6, pipeline: 6, payments: 6, research: 6, devops: 6 },
  anomalousShare: 0.65, slowShare: 0,
  variant: { holdout: false, currencies: ["EUR", "USD"] },
};

/**
 * Held-out suite: another seed and parameter draws, plus what dev never shows — an hr-assistant
 * kind, GBP/JPY/CHF and crypto 24/7 trading, multi-currency payers, low-and-slow exfiltration and
 * tool discovery.
 */
export const HOLDOUT: SuiteSpec = {
  name: "holdout", seed: 0x401d07, end: END,
  kinds: { trading: 5, support: 5, pipeline: 5, payments: 5, research: 5, devops: 5, "hr-assistant": 6 },
  anomalousShare: 0.65, slowShare: 0.5,
  variant: { holdout: true, currencies: ["GBP", "JPY", "CHF", "EUR", "USD"] },
};
