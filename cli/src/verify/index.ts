/**
 * The offline verifier behind `kakunin audit verify`: runs checks a–e over one evidence bundle
 * and returns a structured report. Pure computation over the bundle (no network, no clock), so
 * the same bundle always gets the same verdict, and the benchmark times exactly this code path.
 */
import "../node-crypto.ts";
import { EVIDENCE_FORMAT, kakuninOids } from "@kakunin/shared";
import { checkChain } from "./chain.ts";
import { checkCompleteness } from "./completeness.ts";
import { checkConsistency } from "./consistency.ts";
import { checkEntries } from "./entries.ts";
import { shapeProblems, unwrap } from "./shape.ts";
import { checkTreeHead } from "./tree-head.ts";
import type { Bundle, CheckId, CheckResult, VerifyOptions, VerifyReport } from "./types.ts";
import { checkValidity } from "./validity.ts";

export type { VerifyOptions, VerifyReport } from "./types.ts";

const fmt = (n: number) => n.toLocaleString("en-US");

const TITLES: Record<CheckId, string> = {
  format: "format", chain: "CA chain", tree_head: "signed tree head", entries: "no entry modified",
  completeness: "no entry removed", consistency: "consistent with the earlier tree head", validity: "certificate valid at the time of each event",
};

function skipped(id: CheckId): CheckResult {
  return { id, title: TITLES[id], status: "skipped", summary: "not checked: the bundle is malformed", failures: [], notes: [] };
}

/** Verifies a parsed document: the saved HTTP response `{"data": bundle}` or the bare bundle. */
export async function verifyBundle(doc: unknown, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const b = unwrap(doc);
  const problems = shapeProblems(b);
  const format: CheckResult = {
    id: "format", title: TITLES.format, status: problems.length ? "fail" : "pass",
    summary: problems.length ? `not a well-formed ${EVIDENCE_FORMAT} bundle` : EVIDENCE_FORMAT,
    failures: problems.length ? [{ subject: "bundle", reasons: problems }] : [], notes: [],
  };
  if (problems.length) {
    const rest = (["chain", "tree_head", "entries", "completeness", "validity"] as const).map(skipped);
    const fmtValue = typeof b === "object" && b !== null && "format" in b && typeof b.format === "string" ? b.format : null;
    return {
      ok: false, format: fmtValue, tenant: null, agent_id: null, tree_head: null, trust_anchor: null,
      counts: { entries: 0, events: 0, events_valid: 0, chain_links: 0 }, checks: [format, ...rest],
      summary: "FAILED: the file is not a well-formed evidence bundle",
    };
  }
  return verifyWellFormed(b as Bundle, format, opts);
}

async function verifyWellFormed(b: Bundle, format: CheckResult, opts: VerifyOptions): Promise<VerifyReport> {
  const oids = kakuninOids(opts.oidArc);
  const chain = await checkChain(b, opts.rootPem, oids, opts.rootSource);
  const head = await checkTreeHead(b, chain.signer);
  const entries = await checkEntries(b);
  const complete = checkCompleteness(b, entries.parsed);
  const validity = checkValidity(b, entries.parsed, chain.agentCerts);
  const since = opts.sinceTreeHead === undefined ? [] : [await checkConsistency(b, opts.sinceTreeHead, oids)];
  const checks = [format, chain.result, head, entries.result, complete, ...since, validity.result];
  const failed = checks.filter((c) => c.status !== "pass");
  const h = b.tree_head;
  const summary = failed.length === 0
    ? `VERIFIED: ${fmt(b.entries.length)} entries, tree size ${fmt(h.tree_size)}, signed ${h.timestamp}, certificate valid at the time of each of ${fmt(validity.events)} events`
    : `FAILED: ${failed.length} of ${checks.length} checks failed (${failed.map((c) => c.title).join("; ")})`;
  return {
    ok: failed.length === 0,
    format: b.format,
    tenant: { id: b.tenant.id, name: b.tenant.name },
    agent_id: b.agent.id,
    tree_head: { tree_size: h.tree_size, root_hash: h.root_hash, timestamp: h.timestamp },
    trust_anchor: chain.anchor,
    counts: { entries: b.entries.length, events: validity.events, events_valid: validity.valid, chain_links: entries.chainLinks },
    checks,
    summary,
  };
}
