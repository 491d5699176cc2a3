/** What `events send` reports: counts, bands, the riskiest event, and every refused batch. */
import type { Problem } from "@kakunin/shared";
import { indent, kv } from "../render.ts";
import type { EventLine } from "./jsonl.ts";
import type { IngestOutcome, Reason } from "./post.ts";

export interface RejectedBatch {
  batch: number;
  first_line: number;
  last_line: number;
  events: number;
  status: number;
  title: string;
  detail: string;
  /** Field errors mapped back to file lines (`events.3.amount` → the 4th event's line). */
  errors: { line: number | null; path: string; message: string }[];
}

export interface Highest {
  event_id: string;
  line: number;
  score: number;
  band: string;
  /** Largest contributions first, at most three. */
  top_reasons: Reason[];
}

export interface Summary {
  file: string;
  events: number;
  batches: number;
  /** Events in batches the edge answered (accepted, duplicate or refused). */
  sent: number;
  accepted: number;
  duplicates: number;
  rejected_events: number;
  rejected_batches: RejectedBatch[];
  bands: { low: number; medium: number; high: number };
  highest: Highest | null;
  /** Set when sending stopped early (a refused token, an unreachable edge): what was not sent. */
  stopped: { reason: string; unsent_events: number } | null;
}

export function emptySummary(file: string, events: number, batches: number): Summary {
  return {
    file, events, batches, sent: 0, accepted: 0, duplicates: 0, rejected_events: 0, rejected_batches: [],
    bands: { low: 0, medium: 0, high: 0 }, highest: null, stopped: null,
  };
}

/** Adds one accepted batch; results are in the batch's order, duplicates carry their first score. */
export function addOutcome(s: Summary, batch: readonly EventLine[], o: IngestOutcome): void {
  s.sent += batch.length;
  s.accepted += o.accepted;
  s.duplicates += o.duplicates;
  o.results.forEach((r, i) => {
    s.bands[r.band] += 1;
    if (s.highest === null || r.score > s.highest.score) {
      const top = [...r.reasons].sort((a, b) => b.contribution - a.contribution).slice(0, 3);
      s.highest = { event_id: r.event_id, line: batch[i]?.line ?? 0, score: r.score, band: r.band, top_reasons: top };
    }
  });
}

export function addRejection(s: Summary, index: number, batch: readonly EventLine[], p: Problem): void {
  s.sent += batch.length;
  s.rejected_events += batch.length;
  const errors = (Array.isArray(p.errors) ? p.errors : []).map((e) => {
    const m = /^events\.(\d+)(?:\.|$)/.exec(e.path);
    const line = m ? (batch[Number(m[1])]?.line ?? null) : null;
    return { line, path: e.path, message: e.message };
  });
  s.rejected_batches.push({
    batch: index + 1, first_line: batch[0]?.line ?? 0, last_line: batch.at(-1)?.line ?? 0, events: batch.length,
    status: p.status, title: p.title, detail: p.detail, errors,
  });
}

export function renderSummary(s: Summary): string {
  const h = s.highest;
  let out = kv([
    ["file", s.file],
    ["events", `${s.events} in ${s.batches} batch${s.batches === 1 ? "" : "es"}`],
    ["sent", s.sent],
    ["accepted", s.accepted],
    ["duplicates", s.duplicates],
    ["rejected", `${s.rejected_events} events in ${s.rejected_batches.length} batch${s.rejected_batches.length === 1 ? "" : "es"}`],
    ["bands", `low ${s.bands.low}, medium ${s.bands.medium}, high ${s.bands.high}`],
    ["highest", h ? `${h.score.toFixed(3)} (${h.band}), event ${h.event_id} on line ${h.line}` : "-"],
  ]);
  for (const r of h?.top_reasons ?? []) out += indent(`${r.contribution.toFixed(3)}  ${r.feature}: ${r.detail}\n`, "    ");
  for (const b of s.rejected_batches) {
    out += `rejected batch ${b.batch} (lines ${b.first_line}-${b.last_line}): ${b.title} (${b.status}): ${b.detail}\n`;
    for (const e of b.errors) out += `  ${e.line === null ? "" : `line ${e.line}: `}${e.path}: ${e.message}\n`;
  }
  if (s.stopped) out += `stopped: ${s.stopped.reason}; ${s.stopped.unsent_events} events not sent\n`;
  return out;
}
