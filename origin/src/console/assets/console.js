// Kakunin console: progressive enhancement only (every table works without it). Served from the
// origin under a CSP that forbids inline script; no dependencies but uPlot (loaded before this).
"use strict";
(function () {
  const enc = new TextEncoder();
  const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
  const unhex = (s) => new Uint8Array((s.match(/../g) || []).map((h) => parseInt(h, 16)));
  const sha256 = async (...parts) => {
    const len = parts.reduce((n, p) => n + p.length, 0);
    const all = new Uint8Array(len);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  };
  const leafHash = (data) => sha256(new Uint8Array([0]), data);
  const nodeHash = (l, r) => sha256(new Uint8Array([1]), l, r);

  // RFC 9162 §2.1.3.2, as in shared/src/merkle/verify.ts: the root the path leads to, or null.
  async function rootFromPath(index, size, leaf, path) {
    if (index >= size) return null;
    let fn = index,
      sn = size - 1,
      r = leaf;
    for (const p of path) {
      if (sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0)
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  // Just enough DER to find a certificate's SubjectPublicKeyInfo (the 7th field of tbsCertificate,
  // 6th when the optional [0] version is absent).
  function tlv(b, o) {
    let len = b[o + 1],
      hdr = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[o + 2 + i];
      hdr = 2 + n;
    }
    return { tag: b[o], start: o, body: o + hdr, end: o + hdr + len };
  }
  function spkiOf(pem) {
    const der = Uint8Array.from(atob(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    const cert = tlv(der, 0),
      tbs = tlv(der, cert.body);
    let o = tbs.body,
      field = tlv(der, o);
    if (field.tag === 0xa0) {
      o = field.end;
      field = tlv(der, o);
    }
    for (let i = 0; i < 5; i++) {
      o = field.end;
      field = tlv(der, o);
    } // serial, sigAlg, issuer, validity, subject → spki
    return der.slice(field.start, field.end);
  }
  const TREE_HEAD_CONTEXT = "kakunin-signed-tree-head/v2\n";
  const treeHeadMessage = (h) =>
    `${TREE_HEAD_CONTEXT}{"root_hash":${JSON.stringify(h.root_hash)},"tenant_id":${JSON.stringify(h.tenant_id)},"timestamp":${JSON.stringify(h.timestamp)},"tree_size":${h.tree_size}}`;

  async function checkProof(button) {
    const out = document.getElementById(`proof-${button.dataset.entry}`);
    out.textContent = "checking…";
    out.className = "proof-result";
    try {
      const res = await fetch(button.dataset.src, { credentials: "same-origin" });
      if (!res.ok) throw new Error(`the origin answered ${res.status}`);
      const p = await res.json();
      const th = p.tree_head;
      const leaf = await leafHash(enc.encode(p.canonical));
      const root = await rootFromPath(p.leaf_index, th.tree_size, leaf, p.audit_path.map(unhex));
      if (!root || hex(root) !== th.root_hash) throw new Error("the inclusion path does not lead to the signed root");
      const key = await crypto.subtle.importKey("spki", spkiOf(th.signer_certificate_pem), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);
      const sig = Uint8Array.from(atob(th.signature), (c) => c.charCodeAt(0));
      const good = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, sig, enc.encode(treeHeadMessage(th)));
      if (!good) throw new Error("the tree head signature does not verify");
      out.textContent = `✓ included in the signed tree of ${th.tree_size} entries (root ${th.root_hash.slice(0, 12)}…, signer ${th.signer_serial.slice(0, 12)}…)`;
      out.className = "proof-result ok";
      out.dataset.verified = "true";
    } catch (e) {
      out.textContent = `✗ not verified: ${e instanceof Error ? e.message : String(e)}`;
      out.className = "proof-result error";
      out.dataset.verified = "false";
    }
  }

  // Steering characters shown as \uXXXX, never obeyed (shared/src/visible-controls.ts; the pages
  // get the same from the origin): an old event's action with U+202E reversed "score 0.95".
  const STEERING = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2028\u2029\u2066-\u2069]/g;
  function escapeText(s) {
    const d = document.createElement("div");
    d.textContent = String(s).replace(STEERING, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    return d.innerHTML;
  }

  async function drawTimeline(el) {
    const res = await fetch(el.dataset.src, { credentials: "same-origin" });
    if (!res.ok) {
      el.textContent = `Timeline unavailable (${res.status}).`;
      return;
    }
    const tl = await res.json();
    if (tl.points.length === 0) {
      el.textContent = "No events yet.";
      return;
    }
    const xs = tl.points.map((p) => p.t);
    const scores = tl.points.map((p) => p.score);
    const tip = document.getElementById("timeline-tip");
    const marksPlugin = {
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            for (const m of tl.marks) {
              const x = Math.round(u.valToPos(m.t, "x", true));
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
              ctx.strokeStyle = m.kind === "revocation" ? "#b3261e" : "#6f42c1";
              ctx.setLineDash([4, 3]);
              ctx.lineWidth = 2;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.fillStyle = ctx.strokeStyle;
              ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
              ctx.fillText(m.kind, x + 4, u.bbox.top + 14 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
        // Once drawn: the time span on the axis (for people and tests reading it), then ready.
        ready: [
          (u) => {
            el.dataset.from = new Date(u.scales.x.min * 1000).toISOString();
            el.dataset.to = new Date(u.scales.x.max * 1000).toISOString();
            el.dataset.ready = "true";
          },
        ],
        setCursor: [
          (u) => {
            const i = u.cursor.idx;
            if (i == null || u.cursor.left < 0) {
              tip.classList.add("hidden");
              return;
            }
            const p = tl.points[i];
            const near = tl.marks.filter((m) => Math.abs(m.t - p.t) < (xs[xs.length - 1] - xs[0]) / 100 + 1);
            tip.innerHTML =
              `<strong>${escapeText(new Date(p.t * 1000).toISOString())}</strong> (the agent's time)<br>${escapeText(p.action)}: score ${p.score.toFixed(2)} (${escapeText(p.band)})` +
              (p.reasons.length
                ? `<ul class="reasons">${p.reasons.map((r) => `<li>${escapeText(r.feature)} +${r.contribution.toFixed(2)}: ${escapeText(r.detail)}</li>`).join("")}</ul>`
                : "") +
              near.map((m) => `<div class="flag">${escapeText(m.label)}</div>`).join("");
            const rect = el.getBoundingClientRect();
            tip.style.left = `${window.scrollX + rect.left + u.cursor.left + 16}px`;
            tip.style.top = `${window.scrollY + rect.top + u.cursor.top + 16}px`;
            tip.classList.remove("hidden");
          },
        ],
      },
    };
    const width = Math.max(320, el.clientWidth || 900);
    const opts = {
      width,
      height: 300,
      plugins: [marksPlugin],
      // One event (an agent's first): uPlot 1.6 spans a lone time value by 86400 / ms, i.e. 1000
      // days with seconds, and drew the point at the left edge of an axis running years ahead.
      // Half an hour either side instead.
      scales: { x: { time: true, range: (_u, min, max) => (xs.length === 1 ? [xs[0] - 1800, xs[0] + 1800] : [min, max]) }, y: { range: [0, 1] } },
      axes: [{}, { label: "risk score" }],
      series: [
        {},
        // Points, not a line: events are discrete, and a line would invent scores across quiet hours.
        { label: "score", stroke: "#0b5cad", fill: "#0b5cad", paths: () => null, points: { show: true, size: 5, fill: "#0b5cad" } },
        { label: `medium ≥ ${tl.thresholds.medium}`, stroke: "#9a6700", dash: [6, 4], points: { show: false } },
        { label: `high ≥ ${tl.thresholds.high}`, stroke: "#b3261e", dash: [6, 4], points: { show: false } },
      ],
    };
    el.textContent = "";
    el.dataset.points = String(tl.points.length);
    el.dataset.marks = String(tl.marks.length);
    new uPlot(opts, [xs, scores, xs.map(() => tl.thresholds.medium), xs.map(() => tl.thresholds.high)], el);
  }

  function start() {
    const tl = document.getElementById("timeline");
    if (tl && typeof uPlot !== "undefined")
      drawTimeline(tl).catch((e) => {
        tl.textContent = `Timeline failed: ${e.message}`;
      });
    for (const b of document.querySelectorAll("button.proof-check")) b.addEventListener("click", () => checkProof(b));
    // Forms that do something irreversible ask first (the server checks the role and CSRF regardless).
    for (const f of document.querySelectorAll("form[data-confirm]")) {
      f.addEventListener("submit", (e) => {
        if (!window.confirm(f.dataset.confirm)) e.preventDefault();
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
