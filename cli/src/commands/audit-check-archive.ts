/** `kakunin audit check-archive <dir> --chain chain.pem [--root root.pem] [--json]`: offline, no network. */
import { readFile } from "node:fs/promises";
import { isSmallArcOid, kakuninOids } from "@kakunin/shared";
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { configPath, readConfigFile } from "../config.ts";
import { helpText, JSON_HELP } from "../help-text.ts";
import { EXIT, IoError, UsageError, type Io } from "../io.ts";

const synopsis =
  "audit check-archive <dir> --chain chain.pem [--root root.pem] [--max-lag SECONDS] [--tree-head FILE]... [--earlier-issuers FILE] [--oid-arc OID] [--json]";

const help = helpText(
  synopsis,
  `
Verifies one tenant's WORM archive offline, from its objects alone: download them first, e.g.
\`aws s3 cp --recursive s3://<bucket>/audit/<tenant-id>/ DIR\` (or use the local store's
audit/<tenant-id>/ directory). The batch objects must hold the log contiguously from entry 0,
hash-chained, and every signed tree head in DIR/tree-heads/ must verify (audit certificate of the
tenant, chaining to the pinned root) and have the root hash of the archived entries it covers:
a removed object (a delete marker) is a gap, a replaced or edited one changes that root
(docs/archive.md, "Verifying the archive"). The trust anchor must be pinned: --root, else the
root CA \`kakunin init\` saved.`,
  [
    "  --chain chain.pem  the tenant's issuing CA then the root (GET /v1/ca, chain_pem)",
    "  --root root.pem  pin the trust anchor: the chain's root must be this one",
    "  --max-lag SECONDS  a tree head signed longer ago than this that the archive does not reach",
    "                   fails (entries removed); a newer one is a note (default 86400: one day)",
    "  --tree-head FILE  a signed tree head kept outside the archive (GET /v1/audit/tree-head, or a",
    "                   bundle): checked like the archived ones, so objects hidden together with the",
    "                   archived heads that reach them still show (repeatable)",
    "  --earlier-issuers FILE  after an issuing-CA rollover: the tenant's retired issuing CAs (PEM,",
    "                   a bundle's earlier_issuers_pem); heads signed before the rollover chain to them",
    "  --oid-arc OID    the deployment's KAKUNIN_OID_ARC (default 1.3.6.1.4.1.32473.1)",
    JSON_HELP,
  ],
  "Exit codes: 0 verified, 1 verification failed, 2 usage or I/O error.",
);

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new IoError(`cannot read ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export const auditCheckArchive: Command = {
  name: "audit check-archive",
  synopsis,
  summary: "verify a tenant's downloaded WORM archive against its signed tree heads (exit 0 verified, 1 failed)",
  help,
  spec: { strings: ["chain", "root", "max-lag", "oid-arc", "earlier-issuers"], lists: ["tree-head"], booleans: ["json"], positionals: ["dir"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const dir = a.req("dir");
    const chainPath = a.str("chain");
    if (chainPath === undefined) throw new UsageError("--chain is required: the tenant's issuing CA then the root (GET /v1/ca, chain_pem)", help);
    const lag = a.str("max-lag") ?? "86400";
    if (!/^\d{1,9}$/.test(lag)) throw new UsageError(`--max-lag ${lag} is not a whole number of seconds`, help);
    const oidArc = a.str("oid-arc");
    if (oidArc !== undefined && !isSmallArcOid(oidArc)) throw new UsageError(`--oid-arc ${oidArc} is not a dotted OID whose arcs are < 2^32`, help);
    const root = a.str("root");
    const saved = configPath();
    const rootPem = root === undefined ? readConfigFile(saved).root_ca_pem : await readText(root, "root certificate");
    const rootSource = root === undefined ? `the root kakunin init saved in ${saved}` : "--root";
    const chainPem = await readText(chainPath, "CA chain");
    const earlierPath = a.str("earlier-issuers");
    const earlierIssuersPem = earlierPath === undefined ? undefined : await readText(earlierPath, "earlier issuing CAs");
    const heldHeads: { name: string; doc: unknown }[] = [];
    for (const path of a.list("tree-head")) {
      const text = await readText(path, "tree head");
      try {
        heldHeads.push({ name: path, doc: JSON.parse(text) });
      } catch (e) {
        throw new IoError(`${path} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    // Loaded here, not at the top: X.509 parsing costs every other command ~0.3 s of start-up.
    const { verifyArchive, renderArchiveReport } = await import("../verify/archive.ts");
    const report = await verifyArchive(dir, {
      chainPem,
      rootPem,
      rootSource,
      oids: kakuninOids(oidArc),
      maxLagMs: Number(lag) * 1000,
      heldHeads,
      earlierIssuersPem,
    }).catch((e: unknown) => {
      throw new IoError(`cannot read the archive in ${dir}: ${e instanceof Error ? e.message : String(e)}`);
    });
    io.out(a.bool("json") ? `${JSON.stringify({ dir, ...report }, null, 2)}\n` : renderArchiveReport(report, dir));
    return report.ok ? EXIT.ok : EXIT.failed;
  },
};
