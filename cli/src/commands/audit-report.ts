/** `kakunin audit report <bundle.json> --out report.html [--pdf report.pdf] [--root root.pem]`. */
import { createHash } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import type { EvidenceBundle, EvidenceBundleV2 } from "@kakunin/shared";
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { configPath, readConfigFile } from "../config.ts";
import { helpText, JSON_HELP } from "../help-text.ts";
import { EXIT, IoError, type Io } from "../io.ts";

const synopsis = "audit report <bundle.json> --out report.html [--pdf report.pdf] [--root root.pem] [--json]";

const help = helpText(
  synopsis,
  `
Writes a report a person can read (compliance officer, auditor, regulator) from an evidence
bundle: who the agent is and who owns it, the model it was certified for, its certificates'
validity and revocations, what it did (actions by kind and over time), every risk decision and
review with its reasons, the proof (signed tree head, root, how to re-verify), and a control
mapping (EU AI Act, DORA, GDPR; not legal advice). The bundle is verified first with exactly the
checks of \`kakunin audit verify\`; if any fails, no report is written and the failures are
printed instead (exit 1). The HTML is one self-contained file (no script, no external asset);
--pdf prints it with headless chromium.`,
  [
    "  --out FILE       the HTML report (required); written only if the bundle verifies",
    "  --pdf FILE       also print it to PDF with headless chromium (KAKUNIN_CHROMIUM to choose the binary)",
    "  --root root.pem  pin the trust anchor (default: the root CA `kakunin init` saved)",
    `${JSON_HELP}: {ok, out, pdf, summary}`,
  ],
  "Exit codes: 0 report written, 1 the bundle did not verify (no report), 2 usage or I/O error.",
);

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new IoError(`cannot read ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export const auditReport: Command = {
  name: "audit report",
  synopsis,
  summary: "write a human-readable report (HTML, PDF) from a bundle that verifies",
  help,
  spec: { strings: ["root", "out", "pdf"], booleans: ["json"], positionals: ["bundle.json"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const file = a.req("bundle.json");
    const out = a.str("out");
    if (!out) throw new IoError("--out report.html is required");
    const pdf = a.str("pdf");
    const root = a.str("root");
    const text = await readText(file, "bundle");
    const rootPem = root === undefined ? readConfigFile(configPath()).root_ca_pem : await readText(root, "root certificate");
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new IoError(`${file} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    // The same verifier as `kakunin audit verify`, called through its public function.
    const [{ verifyStream }, { renderReport }, { unwrap }, { renderReportHtml }] = await Promise.all([
      import("../verify/index.ts"),
      import("../verify/render.ts"),
      import("../verify/shape.ts"),
      import("../report/html.ts"),
    ]);
    // The text, not the parsed document: v3 entries must be in the file byte for byte as hashed.
    const verification = await verifyStream(
      (async function* () {
        yield text;
      })(),
      { rootPem, rootSource: root === undefined ? `the root kakunin init saved in ${configPath()}` : "--root" },
    );
    if (!verification.ok) {
      // No report for evidence that does not hold: the failures instead, and nothing on disk.
      await rm(out, { force: true });
      if (pdf) await rm(pdf, { force: true });
      io.err(`No report written: the bundle did not verify.\n${renderReport(verification, file)}`);
      if (a.bool("json")) io.out(`${JSON.stringify({ ok: false, out: null, pdf: null, summary: verification.summary })}\n`);
      return EXIT.failed;
    }
    const html = renderReportHtml({
      bundle: unwrap(doc) as EvidenceBundle | EvidenceBundleV2,
      verification,
      bundleSha256: createHash("sha256").update(text).digest("hex"),
      bundleName: basename(file),
      generatedAt: new Date(),
    });
    // Written under a temporary name and renamed: a reader never sees half a report.
    try {
      await writeFile(`${out}.partial`, html);
      await rename(`${out}.partial`, out);
    } catch (e) {
      // A bad --out is the user's to fix (exit 2), not a bug of the CLI (70).
      await rm(`${out}.partial`, { force: true });
      throw new IoError(`cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (pdf) {
      const { printPdf } = await import("../report/pdf.ts");
      const printed = await printPdf(out, pdf);
      if (!printed.ok) throw new IoError(printed.error);
    }
    if (a.bool("json")) io.out(`${JSON.stringify({ ok: true, out, pdf: pdf ?? null, summary: verification.summary })}\n`);
    else io.out(`${verification.summary}\nReport written to ${out}${pdf ? ` and ${pdf}` : ""}\n`);
    return EXIT.ok;
  },
};
