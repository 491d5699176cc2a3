/**
 * Which free-form attribute keys carry read volume (events.toScoredInput). The contract's examples
 * are `records`, `rows` and `bytes`, but clients name the same quantity `rows_returned`,
 * `recordCount`, `num_rows`, `bytes_read`, `responseBytes` or `size_kb`, and exfiltration is volume:
 * an agent whose volume went unread was judged on its event count alone. A key is volume when its
 * name is made only of one unit word and qualifiers that mean "how many were read" — never when it
 * says anything else (`record_id`, `row_index`, `max_rows`, `bytes_per_record`, `page`, `seq`):
 * an id that grows with every event read as volume would be an endless run of new maxima.
 */
export type VolumeUnitName = "records" | "bytes";

export interface VolumeKey {
  unit: VolumeUnitName;
  /** Multiplier to records or bytes (a `kb` key is in KiB: × 1024). */
  scale: number;
}

const KIB = 1024;
const UNITS: Record<string, VolumeKey> = {
  record: { unit: "records", scale: 1 },
  records: { unit: "records", scale: 1 },
  rec: { unit: "records", scale: 1 },
  recs: { unit: "records", scale: 1 },
  row: { unit: "records", scale: 1 },
  rows: { unit: "records", scale: 1 },
  // Items a read returns, counted under their own names: a research tool's filed `pages`, a KYC
  // fetch's `documents`, a portfolio read's `positions` (blind worlds G and H exfiltrated under
  // these, 25-300x the agent's median, and read no volume feature at all). Plural only: the
  // singular is an index or an id (`page`, `position`, `document`) unless a count word counts it.
  page: { unit: "records", scale: 1 },
  pages: { unit: "records", scale: 1 },
  document: { unit: "records", scale: 1 },
  documents: { unit: "records", scale: 1 },
  doc: { unit: "records", scale: 1 },
  docs: { unit: "records", scale: 1 },
  file: { unit: "records", scale: 1 },
  files: { unit: "records", scale: 1 },
  item: { unit: "records", scale: 1 },
  items: { unit: "records", scale: 1 },
  entry: { unit: "records", scale: 1 },
  entries: { unit: "records", scale: 1 },
  position: { unit: "records", scale: 1 },
  positions: { unit: "records", scale: 1 },
  message: { unit: "records", scale: 1 },
  messages: { unit: "records", scale: 1 },
  // Blind world I: a treasury read's `accounts` (80× its median) and a runbook bot's log `lines`
  // (140×) read as nothing.
  account: { unit: "records", scale: 1 },
  accounts: { unit: "records", scale: 1 },
  line: { unit: "records", scale: 1 },
  lines: { unit: "records", scale: 1 },
  user: { unit: "records", scale: 1 },
  users: { unit: "records", scale: 1 },
  customer: { unit: "records", scale: 1 },
  customers: { unit: "records", scale: 1 },
  contact: { unit: "records", scale: 1 },
  contacts: { unit: "records", scale: 1 },
  transaction: { unit: "records", scale: 1 },
  transactions: { unit: "records", scale: 1 },
  byte: { unit: "bytes", scale: 1 },
  bytes: { unit: "bytes", scale: 1 },
  kb: { unit: "bytes", scale: KIB },
  kib: { unit: "bytes", scale: KIB },
  kilobytes: { unit: "bytes", scale: KIB },
  mb: { unit: "bytes", scale: KIB ** 2 },
  mib: { unit: "bytes", scale: KIB ** 2 },
  megabytes: { unit: "bytes", scale: KIB ** 2 },
  gb: { unit: "bytes", scale: KIB ** 3 },
  gib: { unit: "bytes", scale: KIB ** 3 },
  gigabytes: { unit: "bytes", scale: KIB ** 3 },
};

/**
 * Words that say "how many were read/returned", for either unit. Not "total": a `total_records` is
 * most often the size of the whole collection a page came from, and a `bytes_sent_total` a client's
 * running counter (Prometheus naming), which grows with every event like an id.
 */
const COUNTING = [
  "num",
  "number",
  "n",
  "count",
  "of",
  "read",
  "returned",
  "fetched",
  "retrieved",
  "exported",
  "downloaded",
  // What a query engine reports it went through (world E, blind: a compliance scan's rowsScanned).
  "scanned",
  "examined",
  "queried",
  "selected",
  "loaded",
  "sent",
  "response",
  "result",
  "results",
];
/** Words that only make sense of bytes: a `record_size` is the size of one record, not a count. */
const SIZING = ["size", "payload", "body", "data", "content", "transferred", "received", "out"];
/**
 * A singular record word names one record (`selectedRow`, `loaded_record`: its index or its id,
 * which grows with every event) unless a count word counts it (`record_count`, `rowcount`).
 */
const SINGULAR: ReadonlySet<string> = new Set([
  "record",
  "rec",
  "row",
  "page",
  "document",
  "doc",
  "file",
  "item",
  "entry",
  "position",
  "message",
  "account",
  "line",
  "user",
  "customer",
  "contact",
  "transaction",
]);
const COUNTS: ReadonlySet<string> = new Set(["num", "number", "n", "count"]);
/** Count words that are an index when they follow the unit. */
const ORDINAL: ReadonlySet<string> = new Set(["num", "number", "n"]);
const QUALIFIERS: Record<VolumeUnitName, ReadonlySet<string>> = {
  records: new Set(COUNTING),
  bytes: new Set([...COUNTING, ...SIZING]),
};
const VOCABULARY = new Set([...Object.keys(UNITS), ...COUNTING, ...SIZING]);
const LONGEST = Math.max(...[...VOCABULARY].map((w) => w.length));

/** Splits a run of letters into vocabulary words (`rowcount` → row, count), or undefined. */
function words(token: string): string[] | undefined {
  // best[i]: a split of token[0, i) into vocabulary words; the shortest split wins (deterministic).
  const best: (string[] | undefined)[] = [[]];
  for (let i = 1; i <= token.length; i++) {
    for (let j = Math.max(0, i - LONGEST); j < i; j++) {
      const w = token.slice(j, i);
      const before = best[j];
      if (before && VOCABULARY.has(w) && (best[i] === undefined || before.length + 1 < best[i]!.length)) best[i] = [...before, w];
    }
  }
  return best[token.length];
}

/** The volume a key names, or undefined: snake, kebab, dotted and camelCase keys alike. */
function classify(key: string): VolumeKey | undefined {
  if (key.length > 64) return undefined;
  const tokens = key
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((t) => t.length > 0);
  // Digits are separators above, so `rows2` would read as rows: a key with digits is not volume.
  if (tokens.length === 0 || /[0-9]/.test(key)) return undefined;
  const all: string[] = [];
  for (const t of tokens) {
    const w = words(t);
    if (!w) return undefined;
    all.push(...w);
  }
  const units = all.filter((w) => UNITS[w] !== undefined);
  if (units.length !== 1) return undefined;
  const found = UNITS[units[0]!]!;
  const at = all.indexOf(units[0]!);
  // A count word before the unit counts it (`num_rows`, `number_of_records`); after it, it numbers
  // one (`row_number`, `record_num`: an index, which grows with every event).
  const ok = all.every((w, i) => i === at || (QUALIFIERS[found.unit].has(w) && !(ORDINAL.has(w) && i > at)));
  if (SINGULAR.has(units[0]!) && !all.some((w) => COUNTS.has(w))) return undefined;
  return ok ? found : undefined;
}

/**
 * Attribute keys are few per client: a bounded memo keeps the per-event cost at a lookup. Full, it
 * keeps what it has and stops learning: cleared instead, one agent writing fresh keys into every
 * event would evict every other agent's keys in the isolate, and each would be split again.
 */
const memo = new Map<string, VolumeKey | null>();
const MEMO_MAX = 1024;

/** Every volume key has a unit word: a key without one of these letters in it is not split at all. */
const UNIT_HINT = /rec|row|byte|[kmg]i?b|page|doc|file|item|entr|position|message|account|line|user|customer|contact|transaction/i;

export function volumeKeyOf(key: string): VolumeKey | undefined {
  // classify() refuses a key over 64 characters: so does this, before the memo, which would hold it.
  if (key.length > 64 || !UNIT_HINT.test(key)) return undefined;
  let v = memo.get(key);
  if (v === undefined) {
    v = classify(key) ?? null;
    if (memo.size < MEMO_MAX) memo.set(key, v);
  }
  return v ?? undefined;
}
