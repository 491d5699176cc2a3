/** `kakunin audit verify <bundle.json> [--root root.pem] [--json]`: offline, no network. */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { helpText, JSON_HELP } from "../help-text.ts";
import { isSmallArcOid } from "@kakunin/shared";
import { configPath, readConfigFile } from "../config.ts";
import { EXIT, IoError, UsageError, type Io } from "../io.ts";

const synopsis = "audit verify <bundle.json> [--root root.pem] [--since-tree-head FILE] [--oid-arc OID] [--json]";

const help = helpText(synopsis, `
Verifies an evidence bundle offline (the saved response of GET /v1/agents/:id/evidence, as
\`kakunin audit export\` writes it, or the bare bundle): format, CA chain, signed tree head, every
entry's hash and inclusion proof, and that the agent's certificate was valid at the time of each
event, and that no entry of the agent was removed (docs/evidence-format.md). The trust anchor
must be pinned: --root, else the root CA \`kakunin init\` saved; without either the bundle fails
(its own root proves nothing) and the report prints the root's fingerprint to compare.`, [
  "  --root root.pem  pin the trust anchor: the bundle's root CA must be this one",
  "  --since-tree-head FILE  an earlier signed tree head (GET /v1/audit/tree-head, or an earlier bundle):",
  "                   the bundle must prove its tree extends it (export with the same flag)",
  "  --oid-arc OID    the deployment's KAKUNIN_OID_ARC (default 1.3.6.1.4.1.32473.1)",
  JSON_HELP,
], "Exit codes: 0 verified, 1 verification failed, 2 usage or I/O error.");

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new IoError(`cannot read ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export const auditVerify: Command = {
  name: "audit verify",
  synopsis,
  summary: "verify an evidence bundle offline (exit 0 verified, 1 failed)",
  help,
  spec: { strings: ["root", "oid-arc", "since-tree-head"], booleans: ["json"], positionals: ["bundle.json"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const file = a.req("bundle.json");
    const root = a.str("root");
    const saved = configPath();
    const rootPem = root === undefined ? readConfigFile(saved).root_ca_pem : await readText(root, "root certificate");
    const rootSource = root === undefined ? `the root kakunin init saved in ${saved}` : "--root";
    const oidArc = a.str("oid-arc");
    if (oidArc !== undefined && !isSmallArcOid(oidArc)) throw new UsageError(`--oid-arc ${oidArc} is not a dotted OID whose arcs are < 2^32`, help);
    // Loaded here, not at the top: X.509 parsing costs every other command ~0.3 s of start-up.
    const [{ verifyParts, BundleSyntaxError }, { bundleParts }, { renderReport }, { fastAttempt }] = await Promise.all([
      import("../verify/index.ts"), import("../verify/json-stream.ts"), import("../verify/render.ts"), import("../verify/fast-verify.ts"),
    ]);
    const sincePath = a.str("since-tree-head");
    let sinceTreeHead: unknown;
    if (sincePath !== undefined) {
      try {
        sinceTreeHead = JSON.parse(await readText(sincePath, "earlier tree head"));
      } catch (e) {
        if (e instanceof IoError) throw e;
        throw new IoError(`${sincePath} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    // Streamed: the bundle may be gigabytes; the verifier holds one entry at a time. The fast path
    // (v3, fields read without JSON.parse) only confirms a bundle that verifies; anything else is
    // verified, and reported, by the reference path (docs/evidence-format.md, "Size and memory").
    const opts = { rootPem, oidArc, rootSource, sinceTreeHead };
    // KAKUNIN_VERIFY_PATH=reference skips the fast path; =debug prints why it gave up (stderr).
    const how = process.env.KAKUNIN_VERIFY_PATH;
    const fast = how === "reference" ? { fallback: "KAKUNIN_VERIFY_PATH=reference" } : await fastAttempt(file, opts);
    if (how === "debug") io.err(`fast path: ${"report" in fast ? "verified" : `fell back (${fast.fallback})`}\n`);
    let report = "report" in fast ? fast.report : null;
    try {
      report ??= await verifyParts(bundleParts(chunks(file)), opts);
    } catch (e) {
      if (e instanceof BundleSyntaxError) throw new IoError(`${file} is not JSON: ${e.message}`);
      throw e;
    }
    io.out(a.bool("json") ? `${JSON.stringify({ file, ...report }, null, 2)}\n` : renderReport(report, file));
    return report.ok ? EXIT.ok : EXIT.failed;
  },
};

/** The file as UTF-8 text chunks of 1 MiB (the stream's decoder keeps characters split across chunks whole). */
async function* chunks(file: string): AsyncGenerator<string> {
  const stream = createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) yield chunk as string;
  } catch (e) {
    throw new IoError(`cannot read bundle ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
