/** `kakunin events send <file.jsonl>`: behaviour events to the edge, batched, with a summary. */
import { readFile } from "node:fs/promises";
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { edgeEndpoint, resolveSettings } from "../config.ts";
import { MAX_EVENTS_PER_BATCH, toBatches } from "../events/batches.ts";
import { parseJsonl } from "../events/jsonl.ts";
import { DEFAULT_RETRY, postBatch } from "../events/post.ts";
import { progress } from "../events/progress.ts";
import { addOutcome, addRejection, emptySummary, renderSummary } from "../events/tally.ts";
import { EDGE_HELP, helpText, JSON_HELP, CREDENTIAL_HELP, ORIGIN_HELP } from "../help-text.ts";
import { describeProblem, reportFailure } from "../http.ts";
import { checkTokenFlags, resolveIngestToken } from "../ingest-token.ts";
import { EXIT, IoError, UsageError, type Io } from "../io.ts";
import { json } from "../render.ts";

const synopsis = "events send <file.jsonl> [--batch 500] [--token T | --agent ID] [--no-validate] [--json]";

const help = helpText(synopsis, `
Posts behaviour events, one JSON object per line, to the edge (POST /v1/events) in batches of at
most --batch events and 1 MiB, and prints a summary: events sent, accepted, duplicates (an event_id
the edge has seen is acknowledged, never counted twice, so re-sending a file is safe), refused
batches with their line numbers, how many events scored low/medium/high, and the highest score
with its top reasons. Progress goes to stderr.

Every line is checked first (JSON, and the event schema and time window the edge applies); if any
line is bad, the errors are listed with line numbers and nothing is sent (exit 2). A batch the
edge still refuses (422) is reported and skipped, the rest is sent, and the exit code is 1.
A 503 (the agent's certificate has not reached this edge yet) is retried after Retry-After, and a
network error or other 5xx a few times; a batch is given up after 30 s in all, waiting on a silent
edge included. A refused token (401/403) or an unreachable edge stops the run (exit 3 / 4);
the summary says how many events were not sent.`, [
  "  --batch N        events per request, 1-1000 (default 500)",
  "  --token T        the agent's ingest token (else env KAKUNIN_INGEST_TOKEN)",
  "  --agent ID       mint a token for this agent with the API key first",
  "  --no-validate    only check that each line is a JSON object; let the edge judge the rest",
  EDGE_HELP, ORIGIN_HELP, CREDENTIAL_HELP, JSON_HELP,
], `Exit codes: 0 every event accepted (or a duplicate), 1 some batch refused, 2 usage, unreadable
            file or a bad line (nothing sent), 3 token or request refused, 4 edge unreachable.`);

function batchSize(a: Parsed): number {
  const raw = a.str("batch") ?? "500";
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_EVENTS_PER_BATCH) throw new UsageError(`--batch must be 1-${MAX_EVENTS_PER_BATCH}, got ${raw}`, help);
  return n;
}

/**
 * Lines (1-based, split at LF as parseJsonl does) that are not valid UTF-8. readFile(…, "utf8")
 * would turn such bytes into U+FFFD and the edge would accept an event the file never held; the
 * contract makes malformed Unicode a 422, so it is a bad line here, found before anything is sent.
 */
function invalidUtf8Lines(bytes: Uint8Array): number[] {
  const bad: number[] = [];
  const strict = new TextDecoder("utf-8", { fatal: true });
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    const end = bytes.indexOf(0x0a, start);
    const stop = end === -1 ? bytes.length : end;
    try {
      strict.decode(bytes.subarray(start, stop));
    } catch {
      bad.push(line);
    }
    start = stop + 1;
  }
  return bad;
}

async function readEvents(file: string, validate: boolean) {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new IoError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const badUtf8 = invalidUtf8Lines(bytes);
  const parsed = parseJsonl(new TextDecoder().decode(bytes), { validate, now: Date.now() });
  if (badUtf8.length) {
    // Whatever else parseJsonl said about these lines concerns the U+FFFD stand-ins, not the file.
    parsed.errors = [
      ...parsed.errors.filter((e) => !badUtf8.includes(e.line)),
      ...badUtf8.map((line) => ({ line, message: "not valid UTF-8 (malformed Unicode; the edge refuses it with 422)" })),
    ].sort((x, y) => x.line - y.line);
  }
  if (parsed.errors.length) {
    const shown = parsed.errors.slice(0, 20).map((e) => `  line ${e.line}: ${e.message}`);
    const more = parsed.errors.length > shown.length ? `\n  ... and ${parsed.errors.length - shown.length} more` : "";
    throw new IoError(`${file}: ${parsed.errors.length} bad line(s); nothing was sent\n${shown.join("\n")}${more}`);
  }
  if (parsed.events.length === 0) throw new IoError(`${file} holds no events`);
  return parsed.events;
}

export const eventsSend: Command = {
  name: "events send",
  synopsis,
  summary: "post a JSONL file of behaviour events to the edge (batched, with a summary)",
  help,
  spec: { strings: ["batch", "token", "agent", "edge", "origin", "api-key", "credential"], booleans: ["no-validate", "json"], positionals: ["file.jsonl"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const file = a.req("file.jsonl");
    const max = batchSize(a);
    checkTokenFlags(a, help);
    const events = await readEvents(file, !a.bool("no-validate"));
    const s = resolveSettings(a, help);
    const token = await resolveIngestToken(a, s, help);
    if (!token.ok) return reportFailure(io, token.error);
    const edge = edgeEndpoint(s, token.value);
    const batches = toBatches(events, max);
    const summary = emptySummary(file, events.length, batches.length);
    const bar = progress(io, events.length, a.bool("json") ? "off" : io.errIsTty ? "tty" : "lines");
    const policy = { ...DEFAULT_RETRY, onRetry: (why: string, ms: number) => bar.note(`${why}; retrying in ${(ms / 1000).toFixed(1)} s`) };
    let exit: number = EXIT.ok;
    for (const [i, batch] of batches.entries()) {
      const r = await postBatch(edge, batch, policy);
      if (r.ok) addOutcome(summary, batch, r.value);
      else if (r.error.kind === "refused" && r.error.status === 422) {
        addRejection(summary, i, batch, r.error.problem);
        exit = EXIT.failed;
      } else {
        bar.finish();
        const unsent = batches.slice(i).reduce((n, b) => n + b.length, 0);
        const reason = r.error.kind === "refused" ? describeProblem(r.error.problem).split("\n")[0]! : r.error.detail;
        summary.stopped = { reason: `batch ${i + 1} (lines ${batch[0]!.line}-${batch.at(-1)!.line}): ${reason}`, unsent_events: unsent };
        exit = reportFailure(io, r.error);
        break;
      }
      bar.update(summary.sent);
    }
    bar.finish();
    io.out(a.bool("json") ? json(summary) : renderSummary(summary));
    return exit;
  },
};
