/**
 * `--pdf` prints the report with a local chromium, run without its sandbox (containers, root).
 * The report's own Content-Security-Policy keeps it offline; the browser must too, so that a
 * report whose CSP regressed, or any HTML handed to printPdf, cannot reach the network: a fetch
 * from the auditor's machine would tell whoever planted the URL that the report was opened, and
 * from where.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, printPdf } from "../src/report/pdf.ts";

const chromium = await findChromium();

describe.skipIf(!chromium && process.env.CI !== "true")("printPdf", () => {
  let dir = "";
  let server: Server;
  let port = 0;
  const hits: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-report-pdf-"));
    server = createServer((req, res) => {
      hits.push(req.url ?? "");
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints without touching the network, even for HTML without a CSP that loads remote resources", async () => {
    const html = join(dir, "beacon.html");
    const pdf = join(dir, "beacon.pdf");
    const base = `http://127.0.0.1:${port}`;
    writeFileSync(
      html,
      `<!DOCTYPE html><html><head><link rel="stylesheet" href="${base}/style.css"></head>` +
        `<body><p>PRINTED OFFLINE</p><img src="${base}/beacon.png"><iframe src="${base}/frame"></iframe></body></html>`,
    );
    const r = await printPdf(html, pdf);
    expect(r).toEqual({ ok: true, value: undefined });
    expect(execFileSync("pdftotext", [pdf, "-"], { encoding: "utf8" })).toContain("PRINTED OFFLINE");
    expect(hits).toEqual([]);
  });
});
