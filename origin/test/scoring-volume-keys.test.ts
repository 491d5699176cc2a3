import { describe, expect, it } from "vitest";
import { newState, scoreEvent, toScoredInput, VOLUME_KEYS_READ, type AgentEvent, type MonitorState } from "@kakunin/shared";

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
    // World E (blind): a compliance scan's `rowsScanned` (45× its median in an exfiltration) had no
    // volume features at all, score 0.00. A query engine reports what it scanned or examined.
    ["rowsScanned", 3_070_000, 3_070_000],
    ["rows_scanned", 50, 50],
    ["rows_examined", 50, 50],
    ["records_queried", 50, 50],
    ["rows_selected", 50, 50],
    ["records_loaded", 50, 50],
    // Blind worlds G and H: exfiltration as `pages` of filings, `documents` of KYC files,
    // `positions` of a portfolio, 25-300x the median, read no volume feature at all (2026-12-07).
    ["pages", 64, 64],
    ["documents", 3, 3],
    ["positions", 120, 120],
    ["page_count", 12, 12],
    ["numPages", 12, 12],
    ["docs_returned", 9, 9],
    ["files", 4, 4],
    ["items_fetched", 25, 25],
    ["entries", 12_000, 12_000],
    ["messages_read", 30, 30],
    // Blind world I: a treasury read's `accounts` (80× its median) and a runbook bot's log `lines`
    // (140×) read no volume feature either.
    ["accounts", 12, 12],
    ["lines", 4_000, 4_000],
    ["lines_returned", 40, 40],
    ["users", 500, 500],
    ["customerCount", 7, 7],
    ["contacts_exported", 250, 250],
    ["num_transactions", 90, 90],
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
    ["bytes_scanned", 2048, 2048],
    ["bytesScanned", 2048, 2048],
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
      "rows_affected",
      // One item named: its index or its id, as `page` above.
      "position",
      "document",
      "doc_id",
      "file_id",
      "item_index",
      "entry_number",
      "message_id",
      "page_size",
      "file_size",
      "max_pages",
      "account",
      "account_id",
      "line_number",
      "user_id",
      "userId",
      "customer",
      "contact_id",
      "transaction_id",
      "line_length",
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

  it("one record named (the selected row, the record loaded) is an index or an id, not volume", () => {
    // Until 2026-12-07 a singular record word with only a participle read as volume: a UI's
    // `selectedRow` (the index of the row picked) or `loaded_record` (its id) of 123,456 read as
    // 123,456 records, and an id that grows with every event is an endless run of new maxima.
    // A count word makes a singular a count again: `record_count`, `rowcount`, `num_row`.
    for (const key of [
      "selectedRow",
      "selected_record",
      "selectedRecord",
      "loaded_record",
      "queried_row",
      "scanned_row",
      "result_row",
      "fetched_record",
      "record_read",
      "returned_row",
    ]) {
      const s = toScoredInput(read(1, T0, { [key]: 123_456 }));
      expect([s.records, s.bytes], key).toEqual([undefined, undefined]);
    }
    for (const key of ["record_count", "rowcount", "rowCount", "num_row", "selected_rows", "rows_selected", "loadedRecords"]) {
      expect(toScoredInput(read(1, T0, { [key]: 50 })).records, key).toBe(50);
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
