/**
 * The evidence report as one self-contained HTML document (inline CSS and SVG, no script, no
 * external asset), written for a person: compliance officer, auditor, regulator.
 */
import { showControls, type EvidenceBundle, type EvidenceBundleV2 } from "@kakunin/shared";
import { fmt } from "../verify/fmt.ts";
import type { VerifyReport } from "../verify/index.ts";
import { certificateTimeline, volumeChart } from "./charts.ts";
import { CONTROLS } from "./controls.ts";
import { esc } from "./escape.ts";
import { buildModel, type Reason } from "./model.ts";

/**
 * A time as its instant in UTC. An agent's claimed event time may carry an offset (RFC 3339 and the
 * ingest contract allow `10:00:00+09:00`): its first 19 characters are the agent's local clock, and
 * printing them with "UTC" put the event hours away from when it happened (and from the chart).
 */
const when = (iso: string | null | undefined) => {
  if (!iso) return "—";
  const t = Date.parse(iso);
  return Number.isNaN(t) ? esc(iso) : `${new Date(t).toISOString().slice(0, 19).replace("T", " ")} UTC`;
};
const reasons = (rs: Reason[]) =>
  rs.length === 0
    ? `<span class="muted">—</span>`
    : `<ul>${rs.map((r) => `<li><code>${esc(r.feature)}</code> +${r.contribution.toFixed(2)}: ${esc(r.detail)}</li>`).join("")}</ul>`;

/** A file name as one shell word: a name like `x$(cmd).json` copied from the report must not run anything. */
const shellQuoted = (name: string) => {
  // A leading "-" would read as an option (`--root=evil.pem`): the name is made a path first.
  const path = name.startsWith("-") ? `./${name}` : name;
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`;
};

/** The verifier's warnings under a check (back-dated events, unproven eras…): never left out of the report. */
const notes = (ns: readonly string[]) => (ns.length === 0 ? "" : `<ul class="notes">${ns.map((n) => `<li>warning: ${esc(n)}</li>`).join("")}</ul>`);

// A word longer than its line (an agent name, an owner, an action, a reason, a fingerprint) wraps
// instead of running past the page, where the printed PDF cuts it off: overflow-wrap:anywhere on
// the body, and on table cells of free text (td.text) and code, where `anywhere` also lowers the
// column's minimum width so the table fits the page. Other cells (times, statuses) keep whole words.
const CSS = `
body{font:11pt/1.45 "DejaVu Sans",system-ui,sans-serif;color:#1b1f24;max-width:900px;margin:24px auto;padding:0 16px;overflow-wrap:anywhere}
h1{font-size:20pt;margin:0 0 4px}h2{font-size:14pt;border-bottom:2px solid #0b5cad;padding-bottom:2px;margin-top:28px;break-after:avoid}
h3{font-size:12pt;margin:16px 0 6px}table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:10pt}
th,td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:normal}td.text{overflow-wrap:anywhere}th{background:#f6f8fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}code,.mono{font-family:"DejaVu Sans Mono",monospace;font-size:9pt;overflow-wrap:anywhere;unicode-bidi:isolate}
.muted{color:#57606a}.verdict{border:2px solid #1a7f37;background:#f0fff4;padding:10px 14px;border-radius:6px}
.verdict strong{color:#1a7f37}.cover{border-bottom:1px solid #d0d7de;padding-bottom:12px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}dt{color:#57606a}dd{margin:0;overflow-wrap:anywhere}
ul{margin:0;padding-left:18px}.bar{fill:#0b5cad}.bar-high{fill:#b3261e}.axis{stroke:#57606a}.tick{font-size:10px;fill:#57606a}
.cert-valid{fill:#1a7f37}.cert-revoked{fill:#9a6700}.cert-superseded{fill:#57606a}.revocation{stroke:#b3261e;stroke-width:2}.decision{stroke:#6f42c1;stroke-dasharray:3 2}
.unverified{color:#9a6700;font-style:italic}.notes li{color:#9a6700}.disclaimer{border-left:4px solid #9a6700;padding:6px 10px;background:#fff8c5}tr{break-inside:avoid}
@media print{body{margin:0;max-width:none}a{color:inherit}}`;

/**
 * The report runs nothing and loads nothing: inline CSS and SVG only. Escaping already keeps the
 * bundle's text out of the markup; the policy is the second lock, for the browser and the PDF
 * renderer alike.
 */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** A fact nothing in the bundle signs, shown but labelled so no reader takes it as verified. */
const UNVERIFIED = (why: string) => `<span class="unverified">(not verified: ${esc(why)})</span>`;

export interface ReportInput {
  bundle: EvidenceBundle | EvidenceBundleV2;
  verification: VerifyReport;
  /** SHA-256 of the bundle file as given, so the reader can tie the report to the file. */
  bundleSha256: string;
  bundleName: string;
  generatedAt: Date;
}

/** Renders the report; the bundle must already have verified (the caller refuses otherwise). */
export function renderReportHtml(input: ReportInput): string {
  const { bundle: b, verification: v } = input;
  if (!v.ok) throw new Error("refusing to render a report for a bundle that did not verify");
  const m = buildModel(b, v.tenant ?? b.tenant);
  const th = b.tree_head;
  const events = m.events;
  const highEvents = events.filter((e) => e.band === "high");
  const parts: string[] = [];
  parts.push(
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}"><title>Evidence report: ${esc(m.agent.name)}</title><style>${CSS}</style></head><body>`,
  );
  parts.push(`<header class="cover"><p class="muted">Kakunin evidence report</p><h1>${esc(m.agent.name)}</h1>
<p>AI agent <code>${esc(m.agent.urn)}</code> of tenant <strong>${esc(m.tenant.name)}</strong>, owned by ${esc(m.agent.ownerName)} &lt;${esc(m.agent.ownerEmail)}&gt;.</p>
<div class="verdict" id="verification"><strong>✓ ${esc(v.summary)}</strong>
<ul>${v.checks.map((c) => `<li>${c.status === "pass" ? "✓" : "✗"} ${esc(c.title)}: ${esc(c.summary)}${notes(c.notes)}</li>`).join("")}</ul>
<p>Trust anchor: ${esc(v.trust_anchor?.subject ?? "?")}, SHA-256 fingerprint <code>${esc(v.trust_anchor?.sha256 ?? "?")}</code> (${v.trust_anchor?.pinned ? "pinned by the verifier" : "NOT pinned"}).</p></div>
<dl><dt>Bundle</dt><dd><code>${esc(input.bundleName)}</code>, SHA-256 <code>${esc(input.bundleSha256)}</code></dd>
<dt>Exported</dt><dd>${when(th.timestamp)} (the signed tree head's time)</dd><dt>Window</dt><dd>${b.window.from ? when(b.window.from) : "from the first entry"} to ${b.window.to ? when(b.window.to) : "the export"}</dd>
<dt>Report written</dt><dd>${when(input.generatedAt.toISOString())}</dd><dt>Entries</dt><dd id="count-entries">${fmt(m.entries)}</dd></dl></header>`);

  parts.push(`<section id="agent"><h2>1. The agent</h2><dl>
<dt>Name</dt><dd>${esc(m.agent.name)}</dd><dt>Identifier</dt><dd><code>${esc(m.agent.urn)}</code></dd>
<dt>Owner</dt><dd>${esc(m.agent.ownerName)} &lt;${esc(m.agent.ownerEmail)}&gt;</dd>
<dt>Certified model</dt><dd>${esc(m.agent.modelName)} ${esc(m.agent.modelVersion)}, <code>${esc(m.agent.modelHash)}</code></dd>
<dt>Declared scopes</dt><dd>${m.agent.scopes.map((s) => `<code>${esc(s)}</code>`).join(", ") || "none"}</dd>
<dt>Status at export</dt><dd>${esc(m.agent.statusUnsigned)} ${UNVERIFIED("the origin's word at export; no signed entry in the bundle states it")}</dd></dl>
${m.agent.verified ? "" : `<p>${UNVERIFIED("the bundle holds no agent.created entry: name, owner, model and scopes above are the export's unsigned header")}</p>`}</section>`);

  parts.push(`<section id="certificates"><h2>2. Certificates: validity and revocation</h2>
<p>Each certificate binds the agent's key (held in a key manager, never exported) to its identity and model. Bars show validity, which ends at the certificate's expiry, its revocation or, for a renewed certificate, the end of its renewal overlap (superseded); a red line marks a revocation, dashed purple lines mark risk decisions and reviews.</p>
${certificateTimeline(m.certificates, m.decisions)}
<table><thead><tr><th>Serial</th><th>Status</th><th>Issued</th><th>Expires</th><th>Superseded</th><th>Revoked</th><th>Reason</th></tr></thead><tbody>
${m.certificates.map((c) => `<tr><td><code>${esc(c.serial_number)}</code></td><td>${esc(c.status)}</td><td>${when(c.issued_at)}</td><td>${when(c.expires_at)}</td><td>${when(c.superseded_at)}</td><td>${when(c.revoked_at)}</td><td class="text">${esc(c.revocation_reason ?? "—")}</td></tr>`).join("")}
</tbody></table>
<h3>Lifecycle</h3><table><thead><tr><th class="num">Entry</th><th>Time</th><th>What</th><th>By</th></tr></thead><tbody>
${m.lifecycle.map((e) => `<tr><td class="num">${e.index}</td><td>${when(e.at)}</td><td><code>${esc(e.kind)}</code></td><td>${esc(e.actor.type)}${e.actor.role ? ` (${esc(e.actor.role)})` : ""}</td></tr>`).join("")}
</tbody></table></section>`);

  parts.push(`<section id="activity"><h2>3. What the agent did</h2>
<p><span id="count-events">${fmt(events.length)}</span> actions from ${when(m.window.first)} to ${when(m.window.last)} (the times the agent gave them; the edge's receipt times, which the verifier checks against each certificate's validity, are in the table of high-risk actions): <span id="count-low">${fmt(m.byBand.low)}</span> low, <span id="count-medium">${fmt(m.byBand.medium)}</span> medium and <span id="count-high">${fmt(m.byBand.high)}</span> high risk. Outcomes: ${
    Object.entries(m.byOutcome)
      .sort()
      .map(([k, n]) => `${esc(k)} ${fmt(n)}`)
      .join(", ") || "—"
  }.</p>
${volumeChart(m.buckets.rows, m.buckets.size)}
<table id="by-action"><thead><tr><th>Action</th><th class="num">Count</th><th class="num">High risk</th></tr></thead><tbody>
${m.byAction.map((r) => `<tr><td><code>${esc(r.action)}</code></td><td class="num">${fmt(r.count)}</td><td class="num">${fmt(r.high)}</td></tr>`).join("")}
</tbody></table>
<h3>High-risk actions</h3>${
    highEvents.length === 0
      ? `<p class="muted">None.</p>`
      : `<table id="high-events"><thead><tr><th class="num">Entry</th><th>Time (claimed by the agent)</th><th>Received</th><th>Action</th><th class="num">Score</th><th>Why</th></tr></thead><tbody>
${highEvents.map((e) => `<tr><td class="num">${e.index}</td><td>${when(e.at)}</td><td>${when(e.receivedAt)}</td><td><code>${esc(e.action)}</code>${e.amount !== null ? ` ${fmt(e.amount)} ${esc(e.currency ?? "")}` : ""}</td><td class="num">${e.score.toFixed(2)}</td><td class="text">${reasons(e.reasons)}</td></tr>`).join("")}
</tbody></table>`
  }</section>`);

  parts.push(`<section id="decisions"><h2>4. Risk decisions and reviews</h2>
${
  m.decisions.length === 0
    ? `<p class="muted">No risk decision, review or revocation in this window.</p>`
    : `<table id="decision-table"><thead><tr><th class="num">Entry</th><th>Time</th><th>Decision</th><th>By</th><th class="num">Score</th><th>Reason</th></tr></thead><tbody>
${m.decisions.map((d) => `<tr><td class="num">${d.index}</td><td>${when(d.at)}</td><td><code>${esc(d.kind)}</code>: ${esc(d.decision)}</td><td>${esc(d.by)}</td><td class="num">${d.score === null ? "—" : d.score.toFixed(2)}</td><td class="text">${d.reason ? esc(d.reason) : ""}${reasons(d.reasons)}</td></tr>`).join("")}
</tbody></table>`
}</section>`);

  parts.push(`<section id="proof"><h2>5. Proof</h2>
<p>Every entry above is a leaf of the tenant's append-only audit log (RFC 9162 Merkle tree). This report was written only after the bundle passed every check listed on the cover.</p>
<dl><dt>Tree size</dt><dd id="tree-size">${fmt(th.tree_size)}</dd><dt>Root hash</dt><dd><code id="root-hash">${esc(th.root_hash)}</code></dd>
<dt>Signed at</dt><dd>${when(th.timestamp)}</dd><dt>Signature</dt><dd>${esc(th.signature_algorithm)} by the tenant's audit signer, serial <code>${esc(th.signer_serial ?? "—")}</code></dd>
<dt>Root CA</dt><dd>${esc(v.trust_anchor?.subject ?? "?")}, SHA-256 <code>${esc(v.trust_anchor?.sha256 ?? "?")}</code></dd></dl>
<h3>How to re-verify</h3><ol>
<li>With Kakunin's CLI, offline: <code>kakunin audit verify ${esc(shellQuoted(input.bundleName))} --root root.pem</code>, where <code>root.pem</code> is the root certificate whose fingerprint is shown above, obtained independently of this report.</li>
<li>With any RFC 9162 implementation: ${
    input.bundle.format === "kakunin-evidence/2"
      ? `for each entry, the leaf hash is SHA-256 of the byte 0x00 followed by the entry's <code>canonical</code> text (UTF-8); its <code>audit_path</code> is the inclusion proof for leaf <code>index</code> in the tree of size ${fmt(th.tree_size)}, which must lead to the root hash above.`
      : `for each entry (an object in <code>entries</code>), the leaf hash is SHA-256 of the byte 0x00 followed by its RFC 8785 canonical JSON (UTF-8; the bundle carries it byte for byte); the strings between entries are the base64 hashes of the subtrees covering the leaves in between, and with the leaves they must hash up to the root hash above in the tree of size ${fmt(th.tree_size)} (docs/evidence-format.md, kakunin-evidence/3).`
  } The tree head signature covers <code>kakunin-signed-tree-head/v2</code>, a newline, and the canonical JSON of <code>{root_hash, tenant_id, timestamp, tree_size}</code>; check it with the signer certificate in the bundle, chained to the root CA.</li></ol></section>`);

  parts.push(`<section id="controls"><h2>6. Control mapping</h2>
<p class="disclaimer"><strong>Not legal advice.</strong> This table shows which evidence in this report can support which obligation; whether an obligation applies to this agent, and whether the evidence suffices, is for the institution and its counsel to decide. Articles are cited only where their text was checked.</p>
<table><thead><tr><th>Framework</th><th>Obligation</th><th>Article</th><th>Evidence in this report</th></tr></thead><tbody>
${CONTROLS.map((c) => `<tr><td>${esc(c.framework)}</td><td>${esc(c.obligation)}</td><td>${c.citation ? esc(c.citation) : `<span class="muted">not cited</span>`}</td><td><ul>${c.evidence.map((e) => `<li>${esc(e)}</li>`).join("")}</ul></td></tr>`).join("")}
</tbody></table></section>`);
  parts.push(
    `<footer class="muted"><p>Generated by <code>kakunin audit report</code> from the bundle named on the cover. The bundle, not this document, is the evidence; this document is its reading.</p></footer></body></html>\n`,
  );
  // Steering characters in names, actions and reasons stored before the rules refused them are
  // shown as \uXXXX, never obeyed (a U+202E reversed the text after it); the markup holds none.
  return showControls(parts.join("\n"));
}
