import { describe, expect, it } from "vitest";
import { newState, scoreEvent, toScoredInput, type AgentEvent, type MonitorState } from "@kakunin/shared";

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

/** A CRM reader: ~50 rows per query, one a minute in office hours, volume under the given attributes. */
function reader(n: number, attrs: (i: number) => Record<string, unknown>): { s: MonitorState; t: number } {
  const s = newState();
  let t = T0;
  for (let i = 0; i < n; i++) {
    t += 60_000;
    if (new Date(t).getUTCHours() >= 17) t += 16 * 3_600_000;
    scoreEvent(s, toScoredInput(read(i, t, attrs(i))), SCOPES);
  }
  return { s, t };
}

const volumeReason = (r: ReturnType<typeof scoreEvent>) => r.event.reasons.find((x) => x.feature.startsWith("volume_"));

describe("read volume under the attribute names other clients use", () => {
  // Before: only `records`, `rows` and `bytes` (numbers) were read. A client reporting
  // `rows_returned` or `bytes_read`, or volumes as numeric strings, had no volume features at all,
  // so a bulk export was judged only by its event count and resources.
  it.each([
    ["record_count", 50, 50],
    ["rows_returned", 50, 50],
    ["recordCount", 50, 50],
    ["num_rows", 50, 50],
    ["numRecords", 50, 50],
    ["rowcount", 50, 50],
    ["records_read", "50", 50],
    ["records", "1234.5", 1234.5],
  ])("records from %s = %j", (key, value, want) => {
    expect(toScoredInput(read(1, T0, { [key]: value })).records).toBe(want);
  });

  it.each([
    ["bytes_read", 2048, 2048],
    ["size_bytes", 2048, 2048],
    ["responseBytes", 2048, 2048],
    ["response_size_bytes", "2048", 2048],
    ["kb_read", 2, 2048],
    ["size_kb", 2, 2048],
    ["payloadMB", 1.5, 1.5 * 1_048_576],
    ["gb_exported", 1, 1_073_741_824],
  ])("bytes from %s = %j", (key, value, want) => {
    expect(toScoredInput(read(1, T0, { [key]: value })).bytes).toBe(want);
  });

  it("ids, sequence numbers, pages, limits and latencies are never volume", () => {
    for (const key of [
      "record_id",
      "recordId",
      "row_index",
      "rowNumber",
      "page",
      "seq",
      "sequence_number",
      "max_rows",
      "rows_limit",
      "limit",
      "offset",
      "bytes_per_record",
      "latency_ms",
      "id",
      "customer_id",
      "record_bytes_ratio",
    ]) {
      const s = toScoredInput(read(1, T0, { [key]: 123_456 }));
      expect([s.records, s.bytes], key).toEqual([undefined, undefined]);
    }
    // Not a number: no volume either.
    for (const value of ["12 rows", "-5", "0x10", "", "1e400", true, null, [3], { n: 3 }]) {
      const s = toScoredInput(read(1, T0, { rows_returned: value, bytes_read: value }));
      expect([s.records, s.bytes], JSON.stringify(value)).toEqual([undefined, undefined]);
    }
  });

  it("the contract's own keys keep precedence over other spellings", () => {
    expect(toScoredInput(read(1, T0, { records: 7, rows_returned: 9_000 })).records).toBe(7);
    expect(toScoredInput(read(1, T0, { bytes: 7, bytes_read: 9_000 })).bytes).toBe(7);
  });

  it("a bulk pull reported as rows_returned is judged like one reported as records", () => {
    for (const key of ["records", "rows_returned", "recordCount"]) {
      const { s, t } = reader(1_500, (i) => ({ [key]: 40 + ((i * 7) % 20) }));
      const r = scoreEvent(s, toScoredInput(read(99_999, t + 60_000, { [key]: 250_000 })), SCOPES);
      expect(volumeReason(r)?.feature, key).toBe("volume_over_max");
    }
  });

  it("a record id that grows with every event is not an endless run of new maxima", () => {
    const { s, t } = reader(1_500, (i) => ({ record_id: 1_000_000 + i, rows_returned: 40 + ((i * 7) % 20) }));
    const r = scoreEvent(s, toScoredInput(read(99_999, t + 60_000, { record_id: 1_001_501, rows_returned: 45 })), SCOPES);
    expect(volumeReason(r)).toBeUndefined();
    expect(r.event.band).toBe("low");
  });
});
