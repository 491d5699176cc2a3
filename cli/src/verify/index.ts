/**
 * The offline verifier behind `kakunin audit verify`: runs checks a–f over one evidence bundle
 * and returns a structured report. It streams: the header (everything before `entries`, which
 * the format puts first) is checked, then each entry is checked as it is read and dropped, so
 * memory is bounded by one entry and a few per-check counters, not by the bundle
 * (docs/evidence-format.md, "Size and memory"). Pure computation over the bundle (no network, no
 * clock): the same bundle always gets the same verdict.
 */
import "../node-crypto.ts";
import { EVIDENCE_FORMAT, EVIDENCE_FORMAT_V2, kakuninOids } from "@kakunin/shared";
import { checkChain } from "./chain.ts";
import { CompletenessTracker } from "./completeness.ts";
import { checkConsistency } from "./consistency.ts";
import { EntryChecker, type ParsedEntry, type RawEntry } from "./entries.ts";
import { EntryCheckerV3 } from "./entries-v3.ts";
import { FailureList } from "./failures.ts";
import { FastPathBail } from "./fast-bail.ts";
import { checkHeader, HEADER_TITLE, organizationOf } from "./header.ts";
import { bundleParts, BundleSyntaxError, partsOf, type BundlePart } from "./json-stream.ts";
import { entryShapeProblems, shapeProblems } from "./shape.ts";
import { SignedFacts } from "./signed-facts.ts";
import { checkTreeHead } from "./tree-head.ts";
import type { Bundle, CheckId, CheckResult, VerifyOptions, VerifyReport } from "./types.ts";
import { ValidityTracker } from "./validity.ts";
import { fmt } from "./fmt.ts";

export type { VerifyOptions, VerifyReport } from "./types.ts";
export { BundleSyntaxError } from "./json-stream.ts";


const TITLES: Record<CheckId, string> = {
  format: "format", chain: "CA chain", tree_head: "signed tree head", entries: "no entry modified",
  completeness: "no entry removed", header: HEADER_TITLE, consistency: "consistent with the earlier tree head", validity: "certificate valid at the time of each event",
};

function skipped(id: CheckId): CheckResult {
  return { id, title: TITLES[id], status: "skipped", summary: "not checked: the bundle is malformed", failures: [], notes: [] };
}

function malformed(header: Record<string, unknown>, problems: string[]): VerifyReport {
  const format: CheckResult = { id: "format", title: TITLES.format, status: "fail", summary: `not a well-formed ${header.format === EVIDENCE_FORMAT_V2 ? EVIDENCE_FORMAT_V2 : EVIDENCE_FORMAT} bundle`, failures: [{ subject: "bundle", reasons: problems }], notes: [] };
  const rest = (["chain", "tree_head", "entries", "completeness", "header", "validity"] as const).map(skipped);
  return {
    ok: false, format: typeof header.format === "string" ? header.format : null, tenant: null, agent_id: null, tree_head: null, trust_anchor: null,
    counts: { entries: 0, events: 0, events_valid: 0, chain_links: 0 }, checks: [format, ...rest],
    summary: "FAILED: the file is not a well-formed evidence bundle",
  };
}

/**
 * Verifies a parsed document: the saved HTTP response `{"data": bundle}` or the bare bundle. It
 * judges the value the caller's parser made, not a file: a member given twice has already been
 * resolved (JSON.parse keeps the last copy), and v3 entries, whose text is gone, are hashed as
 * their RFC 8785 re-canonicalisation, so a reformatted file passes here and fails verifyStream.
 * To verify a file as `kakunin audit verify` does, give its text to verifyStream.
 */
export function verifyBundle(doc: unknown, opts: VerifyOptions = {}): Promise<VerifyReport> {
  return verifyParts(partsOf(doc), opts);
}

/** Verifies a bundle read as text chunks (a file stream), one entry in memory at a time. */
export async function verifyStream(chunks: AsyncIterable<string>, opts: VerifyOptions = {}): Promise<VerifyReport> {
  try {
    return await verifyParts(bundleParts(chunks), opts);
  } catch (e) {
    if (e instanceof BundleSyntaxError) return malformed({}, [`the file is not one JSON bundle: ${e.message}`]);
    throw e;
  }
}

/**
 * `mode.fast`: the parts come from the fast path (fast-verify.ts), which only confirms: give up
 * (FastPathBail) as soon as any check fails, since the reference path will verify and report.
 *
 * Every file gets a verdict. A value of a type no check expected (a `consistency` proof that is not
 * a list), nested too deep to quote in a failure, or a time that is not one makes JavaScript throw
 * a TypeError or RangeError somewhere in the checks; that is the bundle's fault, so it fails the
 * format check with the reason instead of escaping as the CLI's "internal error" (exit 70), which
 * tells a script the tool is broken rather than that the evidence is bad. Syntax and I/O errors
 * still propagate: their callers word them.
 */
export async function verifyParts(parts: AsyncIterable<BundlePart>, opts: VerifyOptions = {}, mode: { fast?: boolean } = {}): Promise<VerifyReport> {
  try {
    return await checkParts(parts, opts, mode);
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof RangeError)) throw e;
    if (mode.fast) throw new FastPathBail(`a check could not read the bundle: ${e.message}`);
    return malformed({}, [`the bundle cannot be checked: ${e.message} (a value has a type the format does not allow, or is nested too deeply)`]);
  }
}

async function checkParts(parts: AsyncIterable<BundlePart>, opts: VerifyOptions, mode: { fast?: boolean }): Promise<VerifyReport> {
  const it = parts[Symbol.asyncIterator]();
  // The header: every member before `entries`.
  const header: Record<string, unknown> = {};
  let sawEntries = false;
  for (let r = await it.next(); !r.done; r = await it.next()) {
    if (r.value.type === "member") header[r.value.key] = r.value.value;
    else if (r.value.type === "entries-start") {
      sawEntries = true;
      break;
    }
  }
  const problems = shapeProblems({ ...header, entries: [] });
  if (!sawEntries && !problems.length) problems.push("bundle.entries is missing or has the wrong type");
  if (problems.length) return malformed(header, problems);
  const b = { ...header, entries: [] } as unknown as Bundle;

  const oids = kakuninOids(opts.oidArc);
  const chain = await checkChain(b, opts.rootPem, oids, opts.rootSource);
  const head = await checkTreeHead(b, chain.signer);
  const since = opts.sinceTreeHead === undefined ? [] : [await checkConsistency(b, opts.sinceTreeHead, oids, chain.issuers)];
  if (mode.fast && [chain.result, head, ...since].some((c) => c.status !== "pass")) throw new FastPathBail("a header check failed");
  const formatFailures = new FailureList();
  const entries = b.format === EVIDENCE_FORMAT_V2 ? new EntryChecker(b) : new EntryCheckerV3(b, formatFailures);
  const complete = new CompletenessTracker(b);
  const validity = new ValidityTracker(b, chain.agentCerts);
  const facts = new SignedFacts();
  let position = 0;
  for (let r = await it.next(); !r.done; r = await it.next()) {
    if (r.value.type === "entries-end") break;
    if (r.value.type === "scanned") {
      if (!(entries instanceof EntryCheckerV3)) throw new FastPathBail("not a kakunin-evidence/3 bundle");
      for (const item of r.value.items) {
        const at = position++;
        const parsed = "nodes" in item ? entries.item(`entries[${at}]`, item.nodes) : entries.scanned(at, item.entry, item.leaf);
        if (parsed) {
          complete.add(parsed);
          validity.add(parsed);
          facts.add(parsed.kind, parsed.entry);
        }
      }
      if (formatFailures.total || entries.failures.total) throw new FastPathBail("an entry failed");
      continue;
    }
    if (r.value.type !== "entry") continue;
    const where = `entries[${position++}]`;
    let parsed: ParsedEntry | null;
    if (entries instanceof EntryCheckerV3) parsed = entries.item(where, r.value.value, r.value.raw);
    else {
      const bad = entryShapeProblems(where, r.value.value);
      if (bad.length) {
        formatFailures.add({ subject: where, reasons: bad });
        continue;
      }
      parsed = await entries.check(r.value.value as RawEntry);
    }
    if (!parsed) continue;
    complete.add(parsed);
    validity.add(parsed);
    facts.add(parsed.kind, parsed.entry);
  }
  if (entries instanceof EntryCheckerV3) entries.finish();
  // Members after the entries (archive pointers) are informational; read to the end for syntax.
  for (let r = await it.next(); !r.done; r = await it.next()) {
    if (r.value.type === "member" && r.value.key in header) formatFailures.add({ subject: "bundle", reasons: [`member "${r.value.key}" appears twice`] });
  }

  const format: CheckResult = {
    id: "format", title: TITLES.format, status: formatFailures.total ? "fail" : "pass",
    summary: formatFailures.total ? `${fmt(formatFailures.total)} malformed entr${formatFailures.total === 1 ? "y" : "ies"} (not checked further)` : b.format,
    failures: formatFailures.list, notes: formatFailures.notes(),
  };
  const headerCheck = checkHeader(b, facts, chain.issuing, chain.agentCerts);
  if (mode.fast && headerCheck.status !== "pass") throw new FastPathBail("the header disagrees with the signed entries");
  const checks = [format, chain.result, head, entries.result(), complete.result(), headerCheck, ...since, validity.result()];
  const failed = checks.filter((c) => c.status !== "pass");
  const h = b.tree_head;
  const summary = failed.length === 0
    ? `VERIFIED: ${fmt(entries.count)} entries, tree size ${fmt(h.tree_size)}, signed ${h.timestamp}, certificate valid at the time of each of ${fmt(validity.events)} events`
    : `FAILED: ${failed.length} of ${checks.length} checks failed (${failed.map((c) => c.title).join("; ")})`;
  return {
    ok: failed.length === 0,
    format: b.format,
    // The name the issuing CA certifies (O=), never the header's unsigned claim.
    tenant: { id: b.tenant.id, name: organizationOf(chain.issuing) ?? `${b.tenant.name} (name not verified)` },
    agent_id: b.agent.id,
    tree_head: { tree_size: h.tree_size, root_hash: h.root_hash, timestamp: h.timestamp },
    trust_anchor: chain.anchor,
    counts: { entries: entries.count, events: validity.events, events_valid: validity.valid, chain_links: entries.chainLinks },
    checks,
    summary,
  };
}
