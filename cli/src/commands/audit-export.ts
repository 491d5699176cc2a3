/** `kakunin audit export <agent-id>`: saves the agent's evidence bundle exactly as received. */
import { writeFile } from "node:fs/promises";
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, IoError, type Io } from "../io.ts";
import { json } from "../render.ts";

const synopsis = "audit export <agent-id> [--from T] [--to T] [--out bundle.json] [--json]";

const help = helpText(synopsis, `
Downloads the agent's evidence bundle (GET /v1/agents/:id/evidence; role admin or auditor): its
audit entries with inclusion proofs, a signed tree head and the CA chain, self-contained so that
\`kakunin audit verify bundle.json\` checks it offline. The response is written byte for byte as
received. Without --out (or with --out -) it goes to stdout.`, [
  "  --from T         only entries at or after this time (RFC 3339)",
  "  --to T           only entries before this time (RFC 3339)",
  "  --out FILE       write the bundle here (default: stdout)",
  ORIGIN_HELP,
  `${JSON_HELP}; with --out: {file, bytes, entries}`,
]);

/** Entry count for the summary line; the bundle is written whatever its shape. */
function entryCount(text: string): number | undefined {
  try {
    const doc = JSON.parse(text) as { data?: { entries?: unknown } };
    return Array.isArray(doc.data?.entries) ? doc.data.entries.length : undefined;
  } catch {
    return undefined;
  }
}

export const auditExport: Command = {
  name: "audit export",
  synopsis,
  summary: "save an agent's evidence bundle for offline verification",
  help,
  spec: { strings: ["from", "to", "out", "origin", "api-key"], booleans: ["json"], positionals: ["agent-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const id = a.req("agent-id");
    const r = await call<unknown>("GET", originEndpoint(resolveSettings(a, help)), `/v1/agents/${encodeURIComponent(id)}/evidence`, {
      query: { from: a.str("from"), to: a.str("to") }, timeoutMs: 300_000,
    });
    if (!r.ok) return reportFailure(io, r.error);
    const out = a.str("out");
    const text = r.value.text;
    if (out === undefined || out === "-") {
      io.out(text);
      return EXIT.ok;
    }
    try {
      await writeFile(out, text);
    } catch (e) {
      throw new IoError(`cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const bytes = Buffer.byteLength(text);
    const entries = entryCount(text);
    if (a.bool("json")) io.out(json({ file: out, bytes, entries: entries ?? null }));
    else io.out(`wrote ${out} (${bytes} bytes, ${entries ?? "?"} audit entries); check it offline: kakunin audit verify ${out}\n`);
    return EXIT.ok;
  },
};
