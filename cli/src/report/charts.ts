/** Inline SVG charts for the report: no script, no external asset, print-friendly. */
import type { Bucket, Decision } from "./model.ts";
import type { CertificateView } from "./signed-view.ts";
import { esc } from "./escape.ts";

const day = (iso: string) => iso.slice(0, 10);
const minute = (iso: string) => iso.slice(0, 16).replace("T", " ");

/** Actions per hour (or day) as bars; the part of each bar in the high band is red. */
export function volumeChart(rows: Bucket[], size: "hour" | "day"): string {
  if (rows.length === 0) return `<p class="muted">No actions in this bundle.</p>`;
  const w = 720,
    h = 200,
    left = 44,
    bottom = 36,
    top = 10;
  const max = Math.max(...rows.map((r) => r.count), 1);
  const bw = (w - left - 8) / rows.length;
  const y = (v: number) => top + (h - top - bottom) * (1 - v / max);
  const bars = rows
    .map((r, i) => {
      const x = left + i * bw + 1;
      const wid = Math.max(1, bw - 2);
      const title = `${size === "hour" ? minute(r.start) : day(r.start)}: ${r.count} action(s), ${r.high} in the high band`;
      return (
        `<g><title>${esc(title)}</title><rect x="${x.toFixed(1)}" y="${y(r.count).toFixed(1)}" width="${wid.toFixed(1)}" height="${(y(0) - y(r.count)).toFixed(1)}" class="bar"/>` +
        (r.high
          ? `<rect x="${x.toFixed(1)}" y="${y(r.high).toFixed(1)}" width="${wid.toFixed(1)}" height="${(y(0) - y(r.high)).toFixed(1)}" class="bar-high"/>`
          : "") +
        `</g>`
      );
    })
    .join("");
  const labelEvery = Math.max(1, Math.ceil(rows.length / 8));
  const labels = rows
    .map((r, i) =>
      i % labelEvery === 0
        ? `<text x="${(left + i * bw + bw / 2).toFixed(1)}" y="${h - bottom + 14}" class="tick" text-anchor="middle">${esc(size === "hour" ? r.start.slice(11, 16) : r.start.slice(5, 10))}</text>`
        : "",
    )
    .join("");
  return `<svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="Actions per ${size}, ${rows.reduce((n, r) => n + r.count, 0)} in total">
<line x1="${left}" x2="${w - 4}" y1="${y(0)}" y2="${y(0)}" class="axis"/><text x="${left - 6}" y="${y(max) + 4}" class="tick" text-anchor="end">${max}</text><text x="${left - 6}" y="${y(0) + 4}" class="tick" text-anchor="end">0</text>
${bars}${labels}<text x="${left}" y="${h - 4}" class="tick">per ${size} (UTC), from ${esc(minute(rows[0]!.start))}</text></svg>`;
}

/**
 * When a certificate stopped speaking for the agent: the earliest of its revocation, the end of its
 * renewal overlap (supersession) and its expiry.
 */
export function validUntil(c: CertificateView): { at: string; why: "revoked" | "superseded" | "expires" } {
  const ends = [
    ...(c.revoked_at ? [{ at: c.revoked_at, why: "revoked" as const }] : []),
    ...(c.superseded_at ? [{ at: c.superseded_at, why: "superseded" as const }] : []),
    { at: c.expires_at, why: "expires" as const },
  ];
  return ends.reduce((a, b) => (Date.parse(b.at) < Date.parse(a.at) ? b : a));
}

/** Each certificate's validity as a bar on a shared time axis (ending at its revocation or supersession), revocations and decisions as ticks. */
export function certificateTimeline(certs: CertificateView[], decisions: Decision[]): string {
  if (certs.length === 0) return `<p class="muted">The agent was never certified in this window.</p>`;
  const t0 = Math.min(...certs.map((c) => Date.parse(c.issued_at)));
  const t1 = Math.max(...certs.map((c) => Date.parse(c.expires_at)));
  const w = 720,
    left = 150,
    row = 26;
  const h = certs.length * row + 40;
  const x = (t: number) => left + ((w - left - 10) * (t - t0)) / Math.max(1, t1 - t0);
  const rows = certs
    .map((c, i) => {
      const y = 10 + i * row;
      // A renewed certificate stops at the end of its overlap, not at its notAfter: drawn to its
      // expiry, it read as valid for a year beside its successor.
      const until = validUntil(c);
      const end = Date.parse(until.at);
      const ended =
        until.why === "revoked"
          ? `, revoked ${minute(c.revoked_at!)} (${c.revocation_reason ?? "unspecified"})`
          : until.why === "superseded"
            ? `, superseded by its renewal ${minute(until.at)}`
            : "";
      return (
        `<text x="4" y="${y + 14}" class="tick">${esc(c.serial_number.slice(0, 16))}…</text>` +
        `<rect x="${x(Date.parse(c.issued_at)).toFixed(1)}" y="${y + 3}" width="${Math.max(2, x(end) - x(Date.parse(c.issued_at))).toFixed(1)}" height="14" class="${until.why === "expires" ? "cert-valid" : `cert-${until.why}`}"><title>${esc(`${c.serial_number}: ${c.status}, ${day(c.issued_at)} → ${day(c.expires_at)}${ended}`)}</title></rect>` +
        (until.why === "revoked" ? `<line x1="${x(end).toFixed(1)}" x2="${x(end).toFixed(1)}" y1="${y}" y2="${y + 20}" class="revocation"/>` : "")
      );
    })
    .join("");
  const marks = decisions
    .filter((d) => d.kind !== "certificate.revoked")
    .map(
      (d) =>
        `<line x1="${x(Date.parse(d.at)).toFixed(1)}" x2="${x(Date.parse(d.at)).toFixed(1)}" y1="4" y2="${h - 30}" class="decision"><title>${esc(`${minute(d.at)} ${d.kind}: ${d.decision}`)}</title></line>`,
    )
    .join("");
  return `<svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="Certificate validity and revocations">${rows}${marks}
<text x="${left}" y="${h - 8}" class="tick">${esc(day(new Date(t0).toISOString()))}</text><text x="${w - 10}" y="${h - 8}" class="tick" text-anchor="end">${esc(day(new Date(t1).toISOString()))}</text></svg>`;
}
