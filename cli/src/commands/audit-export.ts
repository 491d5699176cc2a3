/** `kakunin audit export <agent-id>`: saves the agent's evidence bundle exactly as received, streamed. */
import { createWriteStream, type WriteStream } from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { configPath, originEndpoint, readConfigFile, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { openStream, reportFailure } from "../http.ts";
import { EXIT, IoError, type Io } from "../io.ts";
import { json } from "../render.ts";

const synopsis = "audit export <agent-id> [--from T] [--to T] [--since-tree-head FILE] [--format kakunin-evidence/2] [--out bundle.json] [--json]";

const help = helpText(synopsis, `
Downloads the agent's evidence bundle (GET /v1/agents/:id/evidence; role admin or auditor): its
audit entries with one shared inclusion proof, a signed tree head and the CA chain, self-contained so that
\`kakunin audit verify bundle.json\` checks it offline (docs/evidence-format.md). The response is
streamed to disk byte for byte as received, whatever its size; with --out the file appears only
once the whole bundle arrived. Without --out (or with --out -) it goes to stdout.`, [
  "  --from T         the window opens at the agent's last entry logged before T (RFC 3339)",
  "  --to T           the window closes at the agent's first entry logged at or after T (RFC 3339)",
  "  --since-tree-head FILE  include a consistency proof from this earlier signed tree head",
  "  --format F       kakunin-evidence/3 (default) or kakunin-evidence/2 (an audit path per entry, for older tooling)",
  "  --out FILE       write the bundle here (default: stdout)",
  ORIGIN_HELP,
  `${JSON_HELP}; with --out: {file, bytes, entries}`,
]);

/** The tree size of an earlier signed tree head saved as JSON. */
async function treeSizeOf(path: string): Promise<number> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new IoError(`cannot read the earlier tree head ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { earlierHead } = await import("../verify/consistency.ts");
  const h = earlierHead(doc);
  if (typeof h === "string") throw new IoError(`${path}: ${h}`);
  return h.tree_size;
}

/**
 * Counts audit entries while the bytes stream past: the objects directly inside the bundle's
 * `entries` array (v3 also puts base64 proof strings there, which are not counted; v2 entries are
 * objects too). A small JSON tokenizer that keeps only its state between chunks: depth, whether
 * it is inside a string, and the last member name of the bundle object.
 */
class EntryCounter {
  count = 0;
  #depth = 0;
  #inString = false;
  #escaped = false;
  #key = "";
  #text = "";
  #inEntries = false;
  // {"data": {bundle}} puts the bundle's members at depth 2; a bare bundle at depth 1.
  #bundleDepth = 1;
  feed(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === "\\") this.#escaped = true;
        else if (c === '"') {
          this.#inString = false;
          if (this.#depth === this.#bundleDepth) this.#key = this.#text;
        } else if (this.#depth === this.#bundleDepth && this.#text.length < 16) this.#text += c;
        continue;
      }
      if (c === '"') {
        this.#inString = true;
        this.#text = "";
      } else if (c === "{" || c === "[") {
        if (this.#depth === 1 && this.#key === "data" && c === "{") this.#bundleDepth = 2;
        if (this.#depth === this.#bundleDepth && this.#key === "entries" && c === "[") this.#inEntries = true;
        else if (this.#inEntries && this.#depth === this.#bundleDepth + 1 && c === "{") this.count++;
        this.#depth++;
      } else if (c === "}" || c === "]") {
        this.#depth--;
        if (this.#depth === this.#bundleDepth) this.#inEntries = false;
      }
    }
  }
}

/**
 * Opens the temporary file and waits until it is open (or failed): createWriteStream reports a bad
 * path only as an 'error' event later, which without a listener crashes the process.
 */
async function openOutput(tmp: string, out: string): Promise<WriteStream> {
  const file = createWriteStream(tmp);
  try {
    await new Promise<void>((done, fail) => {
      file.once("open", () => done());
      file.once("error", fail);
    });
  } catch (e) {
    throw new IoError(`cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`);
  }
  // A write error later (disk full) surfaces through write/end callbacks; this keeps it from
  // also being an unhandled 'error' event.
  file.on("error", () => {});
  return file;
}

/** Waits for room in the file's buffer, or its write error (which would never be followed by 'drain'). */
function drained(file: WriteStream): Promise<void> {
  return new Promise<void>((done, fail) => {
    const onDrain = () => {
      file.off("error", onError);
      done();
    };
    const onError = (e: Error) => {
      file.off("drain", onDrain);
      fail(e);
    };
    file.once("drain", onDrain);
    file.once("error", onError);
  });
}

/** Closes and deletes the temporary file of an export that will not complete. */
async function discard(file: WriteStream | undefined, tmp: string | undefined): Promise<void> {
  // A stream that failed is already closed and would never emit 'close' again.
  if (file && !file.closed) await new Promise<void>((done) => file.destroy().once("close", () => done()));
  if (tmp) await rm(tmp, { force: true });
}

export const auditExport: Command = {
  name: "audit export",
  synopsis,
  summary: "save an agent's evidence bundle for offline verification",
  help,
  spec: { strings: ["from", "to", "out", "origin", "api-key", "since-tree-head", "format"], booleans: ["json"], positionals: ["agent-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const id = a.req("agent-id");
    const since = a.str("since-tree-head");
    const sinceSize = since === undefined ? undefined : await treeSizeOf(since);
    const out = a.str("out");
    const tmp = out === undefined || out === "-" ? undefined : `${out}.${process.pid}.part`;
    // Opened before the request: the origin logs every export (evidence.exported), so a path we
    // cannot write must fail here rather than leave a checkpoint for a bundle nobody received.
    const file = tmp === undefined || out === undefined ? undefined : await openOutput(tmp, out);
    const r = await openStream(originEndpoint(resolveSettings(a, help)), `/v1/agents/${encodeURIComponent(id)}/evidence`, {
      query: { from: a.str("from"), to: a.str("to"), since_size: sinceSize === undefined ? undefined : String(sinceSize), format: a.str("format") }, timeoutMs: 3_600_000,
    });
    if (!r.ok) {
      await discard(file, tmp);
      return reportFailure(io, r.error);
    }
    const decoder = new TextDecoder();
    const counter = new EntryCounter();
    let bytes = 0;
    try {
      for await (const chunk of r.value.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        const text = decoder.decode(chunk, { stream: true });
        counter.feed(text);
        if (!file) io.raw(text);
        else if (!file.write(chunk)) await drained(file);
      }
    } catch (e) {
      await discard(file, tmp);
      throw new IoError(`the evidence download broke off after ${bytes} bytes: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!file || !tmp || out === undefined) return EXIT.ok;
    try {
      await new Promise<void>((done, fail) => file.end((e?: Error | null) => (e ? fail(e) : done())));
      await rename(tmp, out);
    } catch (e) {
      await rm(tmp, { force: true });
      throw new IoError(`cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (a.bool("json")) io.out(json({ file: out, bytes, entries: counter.count }));
    else {
      // audit verify uses the root `kakunin init` saved; only without one must the user name a root.
      const root = readConfigFile(configPath()).root_ca_pem === undefined ? " --root root.pem" : "";
      io.out(`wrote ${out} (${bytes} bytes, ${counter.count} audit entries); check it offline: kakunin audit verify ${out}${root}\n`);
    }
    return EXIT.ok;
  },
};
