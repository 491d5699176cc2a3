/**
 * Check f, "no entry removed" (docs/evidence-format.md), one entry at a time: every audit entry
 * about an agent carries the agent's own chain, `agent_seq` 0, 1, 2… with `agent_prev` the leaf
 * hash of the one before, and `lifecycle_count`, with `lifecycle_prev` on lifecycle entries. All of
 * it is inside the hashed canonical text, so the signed tree commits to it. The bundle must hold
 * one unbroken stretch of that chain that
 * - opens at agent_seq 0, or (a window with `from`) at an entry logged before `from`;
 * - closes at the export's checkpoint entry at the very end of the signed tree (so there is no
 *   later entry), or (a window with `to`) at an entry logged at or after `to`, after which come
 *   only lifecycle entries and that checkpoint;
 * and every lifecycle entry up to the checkpoint (issuance, revocation, risk decision…), linked.
 * The bundle always ends with the checkpoint, whose signed data.window must be the bundle's
 * window: without it, dropping the end and moving the unsigned window.to back would pass. Its
 * signed data.stretch names the agent_seq the stretch opens and closes at.
 * Taking any entry out breaks a link, a count or a boundary, and the check names where.
 * Streaming: the last run of consecutive agent_seq is the candidate stretch; when a run breaks,
 * the finished run can only be context before the stretch, where only lifecycle entries may appear.
 */
import { EXPORT_CHECKPOINT_KIND } from "@kakunin/shared";
import type { ParsedEntry } from "./entries.ts";
import { FailureList } from "./failures.ts";
import { parseTime } from "./time.ts";
import type { Bundle, CheckResult } from "./types.ts";
import { fmt } from "./fmt.ts";

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

interface Link {
  index: number;
  kind: string;
  seq: number;
  at: number;
  lifecycle: boolean;
  count: number;
  leaf: string;
  entry: Record<string, unknown>;
  predecessorChanged: boolean;
}

/**
 * v3: a link to the entry just before in the log that check d already failed as a modification
 * (this entry's `prev`, naming the same hash, disagrees with that entry's text). Not a removal.
 */
const changedNotRemoved = (l: Link, to: Link, link: unknown): boolean => l.predecessorChanged && to.index === l.index - 1 && link === l.entry.prev;

export class CompletenessTracker {
  readonly #f = new FailureList();
  #legacy = 0;
  #last: Link | null = null;
  /** First link of the current run of consecutive agent_seq, and its first activity entry. */
  #runStart: Link | null = null;
  #runActivity: Link | null = null;
  /** The agent's entry just before the current run, if any. */
  #beforeRun: Link | null = null;
  #lastLifecycle: Link | null = null;
  /** With `to`: the stretch's last entry, logged at or after `to`; after it only lifecycle entries and the checkpoint. */
  #stretchEnd: Link | null = null;
  #stretchStart: Link | null = null;
  #stretchBefore: Link | null = null;
  /** An activity entry after the stretch: allowed once, as the bundle's last entry (the checkpoint). */
  #trailingActivity: Link | null = null;
  #missingLifecycle: number[] = [];
  #missingCount = 0;
  #ordered = true;

  constructor(private readonly b: Pick<Bundle, "window" | "tree_head">) {}

  #fail(subject: string, ...reasons: string[]): void {
    this.#f.add({ subject, reasons });
  }

  add(p: ParsedEntry): void {
    if (p.entry.v === 1) this.#legacy++;
    if (p.entry.v !== 2) return;
    const { agent_seq: seq, lifecycle_count: count } = p.entry;
    if (!isCount(seq) || !isCount(count)) {
      this.#fail(`entry ${p.index} (${p.kind})`, "a version 2 entry about the agent without agent_seq and lifecycle_count");
      return;
    }
    // A lifecycle entry is one that has lifecycle_prev. `!== undefined` rather than `in`: JSON
    // never yields undefined, and the fast path's entries (entry-scan.ts) hold every member the
    // checks read, undefined when absent.
    const l: Link = { index: p.index, kind: p.kind, seq, at: parseTime(String(p.entry.at)), lifecycle: p.entry.lifecycle_prev !== undefined, count, leaf: p.leaf, entry: p.entry, predecessorChanged: p.predecessorChanged === true };
    const prev = this.#last;
    if (prev && l.seq <= prev.seq) {
      this.#ordered = false;
      this.#fail(`entry ${l.index}`, `agent_seq ${l.seq} does not follow entry ${prev.index}'s ${prev.seq}`);
    }
    if (prev && l.seq === prev.seq + 1) {
      if (l.entry.agent_prev !== prev.leaf && !changedNotRemoved(l, prev, l.entry.agent_prev)) this.#fail(`entry ${l.index} (${l.kind})`, `agent_prev is not the leaf hash of entry ${prev.index}, the agent's previous entry`);
      if (l.count !== prev.count + (l.lifecycle ? 1 : 0)) this.#fail(`entry ${l.index} (${l.kind})`, `lifecycle_count ${l.count} does not follow entry ${prev.index}'s ${prev.count}`);
    } else {
      // A new run: the one that ended is context before the stretch, or (with `to`) the stretch
      // itself when it ends at or after the window's end.
      const to = this.b.window.to === null ? NaN : Date.parse(this.b.window.to);
      if (prev && !this.#stretchEnd && this.#runStart && prev.at >= to) {
        this.#stretchEnd = prev;
        this.#stretchStart = this.#runStart;
        this.#stretchBefore = this.#beforeRun;
      } else if (this.#runActivity && this.#runStart) {
        const a = this.#runActivity;
        this.#fail(`entry ${a.index} (${a.kind})`, `an activity entry outside the unbroken stretch: the agent's entries between agent_seq ${prev!.seq} and ${l.seq} are missing`);
      }
      this.#runStart = l;
      this.#beforeRun = prev;
      this.#runActivity = null;
    }
    if (!l.lifecycle && this.#stretchEnd) this.#trailing(l);
    else if (!l.lifecycle && !this.#runActivity) this.#runActivity = l;
    if (l.lifecycle) this.#lifecycle(l);
    this.#last = l;
  }

  #trailing(l: Link): void {
    const t = this.#trailingActivity;
    if (t) this.#fail(`entry ${t.index} (${t.kind})`, `an activity entry after the window's closing boundary (entry ${this.#stretchEnd!.index}) that is not the export checkpoint ending the bundle`);
    this.#trailingActivity = l;
  }

  #lifecycle(l: Link): void {
    const before = this.#lastLifecycle;
    const expected = (before?.count ?? 0) + 1;
    if (l.count < expected) this.#fail(`entry ${l.index} (${l.kind})`, `lifecycle_count ${l.count} repeats or goes back after lifecycle entry #${before?.count ?? 0}`);
    for (let c = expected; c < l.count; c++) this.#missing(c);
    const want = l.count === 1 ? null : before && before.count === l.count - 1 ? before.leaf : undefined;
    if (want !== undefined && l.entry.lifecycle_prev !== want && !(before && changedNotRemoved(l, before, l.entry.lifecycle_prev))) this.#fail(`entry ${l.index} (${l.kind})`, `lifecycle_prev is not the leaf hash of the agent's lifecycle entry #${l.count - 1}`);
    this.#lastLifecycle = l;
  }

  #missing(c: number): void {
    this.#missingCount++;
    if (this.#missingLifecycle.length < 10) this.#missingLifecycle.push(c);
  }

  result(): CheckResult {
    const notes: string[] = [];
    const result = (summary: string): CheckResult => {
      const failures = this.#f;
      return { id: "completeness", title: "no entry removed", status: failures.total ? "fail" : "pass", summary, failures: failures.list, notes: [...notes, ...failures.notes()] };
    };
    const legacy = this.#legacy;
    if (legacy) notes.push(`${fmt(legacy)} entr${legacy === 1 ? "y predates" : "ies predate"} the per-agent chain (audit entry v1): each is proven included, but nothing proves that none of that era is missing`);
    const close = this.#last;
    const first = this.#stretchStart ?? this.#runStart;
    if (!close || !first) {
      this.#fail("bundle", "the bundle holds no entry of the agent's chain (audit entry v2), so nothing proves it complete");
      return result("nothing to prove complete");
    }
    // A chain whose agent_seq 0 is not the agent's creation began under audit entry v1: the agent
    // had v1 entries before it, which nothing links. Said even when the bundle holds none of them,
    // or dropping every v1 entry would leave a bundle that looks complete from the start.
    if (first.seq === 0 && first.kind !== "agent.created" && !legacy) {
      notes.push(`the agent's chain starts at entry ${first.index} (${first.kind}), not at its creation: it began under audit entry v1, and nothing proves that none of that era's entries is missing`);
    }
    if (!this.#ordered) return result("the agent's chain is out of order");
    const b = this.b;
    this.#checkpoint(close);
    const t = this.#trailingActivity;
    if (t && t !== close) this.#fail(`entry ${t.index} (${t.kind})`, `an activity entry after the window's closing boundary that is not the export checkpoint ending the bundle`);
    const from = b.window.from === null ? NaN : Date.parse(b.window.from);
    if (first.seq === 0) {
      if (first.entry.agent_prev !== null) this.#fail(`entry ${first.index} (${first.kind})`, "agent_seq 0 but agent_prev is not null");
    } else if (Number.isNaN(from) || !(first.at < from)) {
      const b4 = this.#stretchStart ? this.#stretchBefore : this.#beforeRun;
      const before = b4 ? `after entry ${b4.index} (agent_seq ${b4.seq}) ` : "";
      this.#fail(`entry ${first.index} (${first.kind})`, `the agent's entries with agent_seq ${b4 ? b4.seq + 1 : 0}–${first.seq - 1} ${before}are missing` +
        (Number.isNaN(from) ? "" : `, and this entry was logged at or after the window's start ${b.window.from}, so it cannot open the window`));
    }
    const lastLc = this.#lastLifecycle?.count ?? 0;
    for (let c = lastLc + 1; c <= close.count; c++) this.#missing(c);
    if (this.#missingCount) {
      const shown = this.#missingLifecycle;
      this.#fail("lifecycle entries", `the agent had ${fmt(close.count)} lifecycle entries by entry ${close.index}; #${shown.join(", #")}${this.#missingCount > shown.length ? ", …" : ""} of them (issuance, revocation, risk decision…) are missing`);
    }
    if (lastLc > close.count) this.#fail("lifecycle entries", `a lifecycle entry counts past the close's lifecycle_count ${close.count}`);
    const end = this.#stretchEnd ?? close;
    this.#signedStretch(close, first, end, notes);
    const span = `agent_seq ${first.seq}–${end.seq}`;
    const how = this.#stretchEnd
      ? `ending with an entry logged at or after ${b.window.to}, then only lifecycle entries and the export checkpoint at the end of the signed tree`
      : "ending with the export checkpoint at the end of the signed tree";
    const opening = first.seq === 0 ? "from the agent's first entry" : `opening with the last entry logged before ${b.window.from}`;
    return result(this.#f.total
      ? `${fmt(this.#f.total)} problem${this.#f.total === 1 ? "" : "s"}: entries were removed or the chain is broken`
      : `${span} unbroken ${opening}, ${how}; all ${fmt(close.count)} lifecycle entries present`);
  }

  /**
   * The checkpoint signs where the stretch opens and closes (`data.stretch`, agent_seq). Without
   * it, a holder could cut a windowed bundle down to a later opening entry also logged before
   * `from` (or an earlier closing one at or after `to`): where entry times go backwards, around a
   * certificate operation, the times alone cannot tell. Checkpoints from before 2026-12-06 do not
   * carry it; a windowed bundle of theirs gets a note.
   */
  #signedStretch(close: Link, first: Link, end: Link, notes: string[]): void {
    if (close.kind !== EXPORT_CHECKPOINT_KIND) return; // #checkpoint has failed it already
    const data = close.entry.data;
    const raw = data && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, unknown>).stretch : undefined;
    if (raw === undefined) {
      if (this.b.window.from !== null || this.b.window.to !== null) {
        notes.push(`the export checkpoint (entry ${close.index}) does not sign where the window's stretch opens and closes (an origin from before 2026-12-06): where entry times go backwards around a certificate operation, entries at the window's edges could have been cut unseen; export again for a bundle that proves them`);
      }
      return;
    }
    const st = raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const lastSeq = st.last_seq === null ? close.seq : st.last_seq;
    if (!isCount(st.first_seq) || !isCount(lastSeq)) {
      this.#fail(`entry ${close.index} (${close.kind})`, `the export checkpoint's stretch ${JSON.stringify(raw)} is not {first_seq, last_seq}`);
      return;
    }
    // The unbroken run may reach past the signed stretch (lifecycle entries next to it are in the
    // bundle anyway); it must cover it.
    if (first.seq > st.first_seq) {
      this.#fail(`entry ${first.index} (${first.kind})`, `the bundle's unbroken stretch opens at agent_seq ${first.seq}, after agent_seq ${st.first_seq} where its export checkpoint says the stretch opens: the agent's entries between them were removed`);
    }
    if (end.seq < lastSeq) {
      this.#fail(`entry ${end.index} (${end.kind})`, `the bundle's unbroken stretch closes at agent_seq ${end.seq}, before agent_seq ${lastSeq} where its export checkpoint says the stretch closes: the agent's entries between them were removed`);
    }
  }

  /**
   * The bundle's last entry must be its export's checkpoint: the last leaf of the signed tree,
   * recording (signed) the window asked for. Every format written since checkpoints were always
   * included carries it; a v2/v3 bundle exported with `to` before that ends at its closing
   * boundary instead and is refused here (export it again): nothing else tells a trimmed end
   * from the requested one.
   */
  #checkpoint(close: Link): void {
    const b = this.b;
    const last = b.tree_head.tree_size - 1;
    if (close.kind !== EXPORT_CHECKPOINT_KIND || close.index !== last) {
      this.#fail(`entry ${close.index} (${close.kind})`, `the bundle does not end with its export checkpoint (the ${EXPORT_CHECKPOINT_KIND} entry at the end of the signed tree, index ${fmt(last)}): ` +
        `the agent's entries after agent_seq ${close.seq} were removed (a bundle exported with \`to\` by an origin that left the checkpoint out must be exported again)`);
      return;
    }
    const data = close.entry.data;
    const signed = data && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, unknown>).window : undefined;
    const w = signed && typeof signed === "object" && !Array.isArray(signed) ? (signed as Record<string, unknown>) : {};
    if (w.from !== b.window.from || w.to !== b.window.to) {
      this.#fail("window", `the bundle's window ${JSON.stringify(b.window)} is not the window its export checkpoint (entry ${close.index}) records, ${JSON.stringify(signed ?? null)}`);
    }
  }
}
