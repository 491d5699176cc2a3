import { describe, expect, it } from "vitest";
import { newState, scoreEvent, toScoredInput, VOLUME_KEYS_READ, type AgentEvent } from "@kakunin/shared";

const T0 = Date.parse("2026-03-02T09:00:00Z");
const SCOPES = ["crm.*"];

function read(i: number, ts: number, attributes: Record<string, unknown>): AgentEvent {
  return {
    event_id: `e${i}`,
    timestamp: new Date(ts).toISOString(),
    type: "data_access",
    action: "crm.query",
    resource: `customers/${i % 40}`,
    outcome: "success",
    latency_ms: 80,
    attributes,
  };
}

/**
 * Keys named "total …" are very often not what this event read: a paginated API's size of the whole
 * collection (`total_records`, `totalRows`, GitHub/Stripe/Elastic style), or a client's cumulative
 * counter since it started (`bytes_sent_total`, Prometheus naming), which grows with every event
 * exactly like the record id volume-keys.ts is careful to exclude.
 */
describe("totals are not this event's read volume", () => {
  it("a page of 10 rows from a collection of 1.2M is 10 records, not 1.2M", () => {
    expect(toScoredInput(read(1, T0, { rows_returned: 10, total_records: 1_200_000 })).records).toBe(10);
    expect(toScoredInput(read(1, T0, { page_size: 50, totalRows: 90_000 })).records).toBeUndefined();
  });

  it("a cumulative byte counter growing with every event is not an endless run of new maxima", () => {
    const s = newState();
    let t = T0;
    let sent = 0;
    const bands: string[] = [];
    for (let i = 0; i < 1_500; i++) {
      t += 60_000;
      if (new Date(t).getUTCHours() >= 17) t += 16 * 3_600_000;
      sent += 4_000 + ((i * 37) % 1_000);
      const r = scoreEvent(s, toScoredInput(read(i, t, { rows: 40 + ((i * 7) % 20), bytes_sent_total: sent })), SCOPES);
      if (i >= 200) bands.push(r.event.band);
    }
    // An ordinary reader, the same rows every minute: nothing about it is unusual.
    expect(bands.filter((b) => b !== "low").length).toBe(0);
  });
});

describe("what an event's keys cost is bounded", () => {
  it("reads volume under other names among an event's first VOLUME_KEYS_READ keys only; the contract's keys always", () => {
    const junk = Object.fromEntries(Array.from({ length: VOLUME_KEYS_READ }, (_, i) => [`rowsx${String.fromCharCode(97 + (i % 26))}${i}`, i]));
    expect(toScoredInput(read(1, T0, { rows_returned: 7, ...junk })).records).toBe(7);
    expect(toScoredInput(read(1, T0, { ...junk, rows_returned: 7 })).records).toBeUndefined();
    expect(toScoredInput(read(1, T0, { ...junk, records: 9, bytes: 12 }))).toMatchObject({ records: 9, bytes: 12 });
  });
});
