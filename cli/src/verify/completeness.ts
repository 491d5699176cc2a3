/**
 * Check f, "no entry removed" (docs/evidence-format.md): every audit entry about an agent carries
 * the agent's own chain, `agent_seq` 0, 1, 2… with `agent_prev` the leaf hash of the one before,
 * and `lifecycle_count`, with `lifecycle_prev` on lifecycle entries. All of it is inside the hashed
 * canonical text, so the signed tree commits to it. The bundle must hold one unbroken stretch of
 * that chain that
 * - opens at agent_seq 0, or (a window with `from`) at an entry logged before `from`;
 * - closes at the export's checkpoint entry at the very end of the signed tree (so there is no
 *   later entry), or (a window with `to`) at an entry logged at or after `to`;
 * and every lifecycle entry up to the close (issuance, revocation, risk decision…), linked. Taking
 * any entry out breaks a link, a count or a boundary, and the check names where.
 */
import { EXPORT_CHECKPOINT_KIND } from "@kakunin/shared";
import type { ParsedEntry } from "./entries.ts";
import type { Bundle, CheckResult, Failure } from "./types.ts";

const fmt = (n: number) => n.toLocaleString("en-US");
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

interface Link {
  e: ParsedEntry;
  seq: number;
  at: number;
  lifecycle: boolean;
  count: number;
}

export function checkCompleteness(b: Bundle, parsed: ParsedEntry[]): CheckResult {
  const failures: Failure[] = [];
  const notes: string[] = [];
  const fail = (subject: string, ...reasons: string[]) => failures.push({ subject, reasons });
  const result = (summary: string): CheckResult => ({
    id: "completeness", title: "no entry removed", status: failures.length ? "fail" : "pass", summary, failures, notes,
  });
  const legacy = parsed.filter((p) => p.entry.v === 1).length;
  if (legacy) notes.push(`${fmt(legacy)} entr${legacy === 1 ? "y predates" : "ies predate"} the per-agent chain (audit entry v1): each is proven included, but nothing proves that none of that era is missing`);
  const links: Link[] = [];
  for (const p of parsed) {
    if (p.entry.v !== 2) continue;
    const { agent_seq: seq, lifecycle_count: count } = p.entry;
    if (!isCount(seq) || !isCount(count)) {
      fail(`entry ${p.index} (${p.kind})`, "a version 2 entry about the agent without agent_seq and lifecycle_count");
      continue;
    }
    links.push({ e: p, seq, at: Date.parse(String(p.entry.at)), lifecycle: "lifecycle_prev" in p.entry, count });
  }
  if (!links.length) {
    fail("bundle", "the bundle holds no entry of the agent's chain (audit entry v2), so nothing proves it complete");
    return result("nothing to prove complete");
  }
  links.sort((x, y) => x.e.index - y.e.index);
  for (let i = 1; i < links.length; i++) {
    if (links[i]!.seq <= links[i - 1]!.seq) fail(`entry ${links[i]!.e.index}`, `agent_seq ${links[i]!.seq} does not follow entry ${links[i - 1]!.e.index}'s ${links[i - 1]!.seq}`);
  }
  if (failures.length) return result("the agent's chain is out of order");

  // The close: the last entry must prove that nothing after it is missing.
  const close = links[links.length - 1]!;
  const to = b.window.to === null ? NaN : Date.parse(b.window.to);
  const closedByCheckpoint = close.e.kind === EXPORT_CHECKPOINT_KIND && close.e.index === b.tree_head.tree_size - 1;
  const closedByWindow = !Number.isNaN(to) && close.at >= to;
  if (!closedByCheckpoint && !closedByWindow) {
    fail(`entry ${close.e.index} (${close.e.kind})`, `the bundle's last entry of the agent (agent_seq ${close.seq}) is neither the export checkpoint at the end of the signed tree (index ${fmt(b.tree_head.tree_size - 1)}) ` +
      `nor an entry logged at or after the window's end: the entries after it were removed`);
  }

  // The stretch: walk back from the close while agent_seq steps down by one, checking each link.
  let open = links.length - 1;
  while (open > 0 && links[open - 1]!.seq === links[open]!.seq - 1) {
    const [prev, cur] = [links[open - 1]!, links[open]!];
    if (cur.e.entry.agent_prev !== prev.e.leaf) fail(`entry ${cur.e.index} (${cur.e.kind})`, `agent_prev is not the leaf hash of entry ${prev.e.index}, the agent's previous entry`);
    if (cur.count !== prev.count + (cur.lifecycle ? 1 : 0)) fail(`entry ${cur.e.index} (${cur.e.kind})`, `lifecycle_count ${cur.count} does not follow entry ${prev.e.index}'s ${prev.count}`);
    open--;
  }
  const first = links[open]!;
  const from = b.window.from === null ? NaN : Date.parse(b.window.from);
  if (first.seq === 0) {
    if (first.e.entry.agent_prev !== null) fail(`entry ${first.e.index} (${first.e.kind})`, "agent_seq 0 but agent_prev is not null");
  } else if (Number.isNaN(from) || !(first.at < from)) {
    const before = open > 0 ? `after entry ${links[open - 1]!.e.index} (agent_seq ${links[open - 1]!.seq}) ` : "";
    fail(`entry ${first.e.index} (${first.e.kind})`, `the agent's entries with agent_seq ${open > 0 ? links[open - 1]!.seq + 1 : 0}–${first.seq - 1} ${before}are missing` +
      (Number.isNaN(from) ? "" : `, and this entry was logged at or after the window's start ${b.window.from}, so it cannot open the window`));
  }
  // Before the stretch only lifecycle entries may appear (a window's context); their chain is checked below.
  for (const l of links.slice(0, open)) {
    if (!l.lifecycle) fail(`entry ${l.e.index} (${l.e.kind})`, `an activity entry outside the unbroken stretch: the agent's entries between agent_seq ${l.seq} and ${first.seq} are missing`);
  }

  // Lifecycle: entries 1..L of the lifecycle chain, each linked to the one before.
  const lifecycle = links.filter((l) => l.lifecycle);
  const byCount = new Map(lifecycle.map((l) => [l.count, l]));
  const missing: number[] = [];
  for (let c = 1; c <= close.count; c++) {
    const l = byCount.get(c);
    if (!l) {
      missing.push(c);
      continue;
    }
    const want = c === 1 ? null : byCount.get(c - 1)?.e.leaf;
    if (want !== undefined && l.e.entry.lifecycle_prev !== want) fail(`entry ${l.e.index} (${l.e.kind})`, `lifecycle_prev is not the leaf hash of the agent's lifecycle entry #${c - 1}`);
  }
  if (missing.length) {
    fail("lifecycle entries", `the agent had ${fmt(close.count)} lifecycle entries by entry ${close.e.index}; #${missing.slice(0, 10).join(", #")}${missing.length > 10 ? ", …" : ""} of them (issuance, revocation, risk decision…) are missing`);
  }
  if (lifecycle.some((l) => l.count > close.count)) fail("lifecycle entries", `a lifecycle entry counts past the close's lifecycle_count ${close.count}`);

  const span = `agent_seq ${first.seq}–${close.seq}`;
  const how = closedByCheckpoint ? "ending with the export checkpoint at the end of the signed tree" : `ending with the first entry logged at or after ${b.window.to}`;
  const opening = first.seq === 0 ? "from the agent's first entry" : `opening with the last entry logged before ${b.window.from}`;
  return result(failures.length
    ? `${fmt(failures.length)} problem${failures.length === 1 ? "" : "s"}: entries were removed or the chain is broken`
    : `${span} unbroken ${opening}, ${how}; all ${fmt(close.count)} lifecycle entries present`);
}
