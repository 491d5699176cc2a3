/**
 * What the evidence report says, computed from a bundle that has already verified. Pure: every
 * number printed comes from here, so the tests can recompute it from the bundle independently.
 */
import { bundleAuditEntries, type EvidenceBundle, type EvidenceBundleV2 } from "@kakunin/shared";
import { agentView, certificateViews, signedFactsOf, type AgentView, type CertificateView } from "./signed-view.ts";

export type Reason = { feature: string; contribution: number; detail: string };

export interface ParsedEntry {
  index: number;
  kind: string;
  at: string;
  actor: { type: string; id: string; role?: string };
  data: Record<string, unknown>;
}

export interface EventFact {
  index: number;
  /** The time the agent gave the event (its claim). */
  at: string;
  /** When the edge received it (what check e, certificate validity, is judged on). */
  receivedAt: string | null;
  eventId: string;
  type: string;
  action: string;
  outcome: string;
  amount: number | null;
  currency: string | null;
  score: number;
  band: string;
  reasons: Reason[];
}

export interface Decision {
  index: number;
  at: string;
  kind: string;
  /** "revoked", "flagged", "clear", "revoke", "reinstate", … */
  decision: string;
  by: string;
  score: number | null;
  reason: string | null;
  reasons: Reason[];
}

export interface Bucket {
  start: string;
  count: number;
  high: number;
}

export interface ReportModel {
  agent: AgentView;
  tenant: { id: string; name: string };
  window: { from: string | null; to: string | null; first: string | null; last: string | null };
  certificates: CertificateView[];
  entries: number;
  lifecycle: ParsedEntry[];
  events: EventFact[];
  byAction: { action: string; count: number; high: number }[];
  byBand: Record<"low" | "medium" | "high", number>;
  byOutcome: Record<string, number>;
  buckets: { size: "hour" | "day"; rows: Bucket[] };
  decisions: Decision[];
}

const str = (v: unknown, d = ""): string => (typeof v === "string" ? v : d);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const reasonsOf = (v: unknown): Reason[] =>
  Array.isArray(v) ? v.map((r) => ({ feature: str(obj(r).feature), contribution: num(obj(r).contribution) ?? 0, detail: str(obj(r).detail) })) : [];

export function parseEntries(b: EvidenceBundle | EvidenceBundleV2): ParsedEntry[] {
  return bundleAuditEntries(b).map((j) => {
    const actor = obj(j.actor);
    return {
      index: j.index,
      kind: j.kind,
      at: str(j.at),
      actor: { type: str(actor.type), id: str(actor.id), role: typeof actor.role === "string" ? actor.role : undefined },
      data: obj(j.data),
    };
  });
}

function eventOf(e: ParsedEntry): EventFact {
  const ev = obj(e.data.event);
  return {
    index: e.index,
    // The agent's own claim (back-dating up to 30 days is allowed); receivedAt is the edge's.
    at: str(ev.timestamp, e.at),
    receivedAt: typeof e.data.received_at === "string" ? e.data.received_at : null,
    eventId: str(ev.event_id),
    type: str(ev.type),
    action: str(ev.action),
    outcome: str(ev.outcome),
    amount: num(ev.amount),
    currency: typeof ev.currency === "string" ? ev.currency : null,
    score: num(e.data.score) ?? 0,
    band: str(e.data.band),
    reasons: reasonsOf(e.data.reasons),
  };
}

const DECISION_KINDS = new Set(["risk.decision", "review.decided", "certificate.revoked", "agent.suspension_lifted"]);

function decisionOf(e: ParsedEntry): Decision {
  const d = e.data;
  const by =
    e.actor.type === "api_key" ? `API key ${e.actor.id.slice(0, 8)}… (${e.actor.role ?? "?"})` : e.actor.type === "edge" ? "edge risk monitor" : e.actor.type;
  if (e.kind === "risk.decision")
    return {
      index: e.index,
      at: e.at,
      kind: e.kind,
      decision: str(d.decision),
      by,
      score: num(d.score),
      reason: d.auto_revoke === true ? "tenant policy auto_revoke" : "tenant policy flags for review",
      reasons: reasonsOf(d.reasons),
    };
  if (e.kind === "review.decided")
    return { index: e.index, at: e.at, kind: e.kind, decision: str(d.decision), by, score: null, reason: str(d.reason) || null, reasons: [] };
  if (e.kind === "certificate.revoked")
    return { index: e.index, at: e.at, kind: e.kind, decision: "certificate revoked", by, score: null, reason: str(d.reason) || null, reasons: [] };
  return { index: e.index, at: e.at, kind: e.kind, decision: "suspension lifted", by, score: null, reason: str(d.reason) || null, reasons: [] };
}

/** Hourly buckets for up to two days of activity, daily beyond; empty buckets included. */
function bucketsOf(events: EventFact[]): ReportModel["buckets"] {
  if (events.length === 0) return { size: "hour", rows: [] };
  const times = events.map((e) => Date.parse(e.at)).sort((a, b) => a - b);
  const span = times[times.length - 1]! - times[0]!;
  const size = span <= 48 * 3600_000 ? "hour" : "day";
  const step = size === "hour" ? 3600_000 : 86_400_000;
  const first = Math.floor(times[0]! / step) * step;
  const n = Math.floor((times[times.length - 1]! - first) / step) + 1;
  const rows: Bucket[] = Array.from({ length: n }, (_, i) => ({ start: new Date(first + i * step).toISOString(), count: 0, high: 0 }));
  for (const e of events) {
    const r = rows[Math.floor((Date.parse(e.at) - first) / step)]!;
    r.count++;
    if (e.band === "high") r.high++;
  }
  return { size, rows };
}

/** `tenant`: the verifier's, whose name is the issuing CA's O= (the header's is not signed). */
export function buildModel(b: EvidenceBundle | EvidenceBundleV2, tenant: { id: string; name: string }): ReportModel {
  const entries = parseEntries(b);
  const facts = signedFactsOf(b);
  const events = entries.filter((e) => e.kind === "event.ingested").map(eventOf);
  const actions = new Map<string, { action: string; count: number; high: number }>();
  const byBand = { low: 0, medium: 0, high: 0 };
  const byOutcome: Record<string, number> = {};
  for (const e of events) {
    const row = actions.get(e.action) ?? { action: e.action, count: 0, high: 0 };
    row.count++;
    if (e.band === "high") row.high++;
    actions.set(e.action, row);
    if (e.band === "low" || e.band === "medium" || e.band === "high") byBand[e.band]++;
    byOutcome[e.outcome] = (byOutcome[e.outcome] ?? 0) + 1;
  }
  // By instant, not as text: claimed times may carry different UTC offsets.
  const sortedTimes = events.map((e) => e.at).sort((x, y) => Date.parse(x) - Date.parse(y));
  return {
    agent: agentView(b, facts),
    tenant,
    window: { from: b.window.from, to: b.window.to, first: sortedTimes[0] ?? null, last: sortedTimes[sortedTimes.length - 1] ?? null },
    certificates: certificateViews(b, facts),
    entries: entries.length,
    lifecycle: entries.filter((e) => e.kind !== "event.ingested"),
    events,
    byAction: [...actions.values()].sort((x, y) => y.count - x.count || x.action.localeCompare(y.action)),
    byBand,
    byOutcome,
    buckets: bucketsOf(events),
    decisions: entries.filter((e) => DECISION_KINDS.has(e.kind)).map(decisionOf),
  };
}
