import { describe, expect, it } from "vitest";
import type { TenantScoring } from "@kakunin/shared";
import { tenantVerdict } from "../src/monitor/tenant-verdict.ts";

/**
 * The shadow verdict forwarded with an event names the candidate that gave it (its `since`): the
 * origin's report counts only the current candidate's verdicts, and a monitor that has not yet read
 * a new candidate from KV still forwards the previous one's for a while.
 */
describe("shadow verdict", () => {
  it("carries the since of the candidate that gave it", () => {
    const reasons = [{ feature: "out_of_scope", contribution: 0.9, detail: "" }];
    const scoring: TenantScoring = { shadow: { thresholds: { medium: 0.95, high: 0.99 }, since: "2026-12-05T09:00:00.000Z" } };
    const raw = { event: { score: 0.9, band: "high" as const, reasons }, risk: { score: 0.9, band: "high" as const, reasons, becameHigh: true } };
    const v = tenantVerdict({ score: 0, reasons: [] }, raw, scoring);
    expect(v.shadow).toMatchObject({ band: "low", active_band: "high", since: "2026-12-05T09:00:00.000Z" });
  });
});
