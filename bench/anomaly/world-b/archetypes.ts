import type { EventType } from "../types.ts";

/** One step of a task. `res` is a pattern: {case} the task's own id, {cust} a customer, {day} the date, {pair} an FX pair, {part} a partition, {acct} an account. */
export interface Step {
  action: string;
  type: EventType;
  res?: string;
  /** Amount scale relative to the agent's base amount. */
  amount?: number;
  /** Read volume carried in attributes (median, relative to the agent's base volume). */
  read?: { key: "records" | "bytes"; scale: number };
  /** Probability the step happens at all. */
  p?: number;
  /** The step repeats this many times (inclusive range). */
  repeat?: [number, number];
}

export interface Template {
  name: string;
  weight: number;
  steps: Step[];
}

export interface Archetype {
  name: string;
  /** Time-zone offsets (hours from UTC) an instance may have. */
  tz: readonly number[];
  /** Tasks per hour at the agent's busiest hour of the week. */
  peak: [number, number];
  /** Relative intensity (0 = never works) at local weekday `dow` (0 = Sunday) and hour, after `shiftDay`. */
  shape(dow: number, hour: number, afterShift: boolean): number;
  /** Whether the agent's shifts move once during the run (benign `shift_change`). */
  shifts: boolean;
  templates: Template[];
  scopes: string[];
  /** Declared (explicitly or by wildcard) but never used by normal work. */
  dormant: Step[];
  /** A tool adopted legitimately part-way through (benign `new_tool`). */
  adopt: Step;
  /** Actions no declared scope covers. */
  outside: string[];
  /** Median gap between steps of a task (ms). */
  gapMs: number;
  /** Base amount (median) and read volume. */
  amount: [number, number];
  volume: [number, number];
  currencies: readonly string[];
  /** Steps that normal work never takes in this order (first, then second): the seeds of impossible sequences. */
  impossible: [string, string][];
}

export const ARCHETYPES: Archetype[] = [
  {
    name: "reconciler", tz: [0, 1, -5], peak: [10, 25], shifts: false,
    shape: (dow, h) => (h < 5 ? (dow === 1 ? 1 : 0.6) : h >= 9 && h < 17 && dow >= 1 && dow <= 5 ? 0.15 : 0),
    templates: [
      { name: "match", weight: 6, steps: [
        { action: "ledger.fetch_batch", type: "data_access", res: "ledger/{day}/batch-{part}", read: { key: "records", scale: 1 } },
        { action: "ledger.match", type: "tool_call", res: "ledger/{day}/batch-{part}", repeat: [1, 4] },
        { action: "ledger.post_adjustment", type: "transaction", res: "accounts/{acct}", amount: 1, p: 0.3 },
      ] },
      { name: "exceptions", weight: 2, steps: [
        { action: "ledger.list_breaks", type: "data_access", res: "breaks/{day}", read: { key: "records", scale: 0.2 } },
        { action: "ledger.annotate_break", type: "tool_call", res: "breaks/{day}/{case}", repeat: [1, 3] },
        { action: "ticket.open", type: "api_request", res: "tickets/{case}", p: 0.4 },
      ] },
    ],
    scopes: ["ledger.*", "ticket.open", "ledger.reverse_posting", "accounts.read_statement"],
    dormant: [
      { action: "ledger.reverse_posting", type: "transaction", res: "accounts/{acct}", amount: 3 },
      { action: "accounts.read_statement", type: "data_access", res: "accounts/{acct}/statements", read: { key: "records", scale: 3 } },
    ],
    adopt: { action: "ledger.auto_match_rules", type: "tool_call", res: "rules/{part}" },
    outside: ["payments.initiate", "users.grant_role", "ledger.purge"],
    gapMs: 4_000, amount: [200, 5_000], volume: [300, 3_000], currencies: ["EUR", "USD"],
    impossible: [["ledger.post_adjustment", "ledger.list_breaks"], ["ledger.match", "ticket.open"]],
  },
  {
    name: "kyc", tz: [0, 8, -3], peak: [2.5, 6], shifts: true,
    shape: (_dow, h, after) => {
      const shift = h < 8 ? 0 : h < 16 ? 1 : 2;
      return (after ? [0.7, 0.5, 1] : [0.25, 1, 0.6])[shift]!;
    },
    templates: [
      { name: "review", weight: 5, steps: [
        { action: "kyc.open_case", type: "api_request", res: "cases/{case}" },
        { action: "kyc.fetch_document", type: "data_access", res: "cases/{case}/documents/{part}", repeat: [1, 4], read: { key: "bytes", scale: 1 } },
        { action: "kyc.screen_sanctions", type: "tool_call", res: "customers/{cust}" },
        { action: "kyc.screen_pep", type: "tool_call", res: "customers/{cust}", p: 0.6 },
        { action: "kyc.decide", type: "tool_call", res: "cases/{case}" },
        { action: "kyc.notify", type: "message", res: "customers/{cust}", p: 0.5 },
      ] },
      { name: "refresh", weight: 2, steps: [
        { action: "kyc.lookup_customer", type: "data_access", res: "customers/{cust}", read: { key: "records", scale: 0.01 } },
        { action: "kyc.screen_sanctions", type: "tool_call", res: "customers/{cust}" },
      ] },
    ],
    scopes: ["kyc.*", "customers.export", "customers.update_risk"],
    dormant: [
      { action: "customers.export", type: "data_access", res: "customers/{cust}/export", read: { key: "records", scale: 5 } },
      { action: "kyc.override_decision", type: "tool_call", res: "cases/{case}" },
      { action: "customers.update_risk", type: "tool_call", res: "customers/{cust}" },
    ],
    adopt: { action: "kyc.screen_adverse_media", type: "tool_call", res: "customers/{cust}" },
    outside: ["payments.release", "accounts.close", "admin.disable_audit"],
    gapMs: 20_000, amount: [1, 1], volume: [200_000, 2_000_000], currencies: ["EUR"],
    impossible: [["kyc.decide", "kyc.open_case"], ["kyc.open_case", "kyc.notify"], ["kyc.notify", "kyc.open_case"]],
  },
  {
    name: "fx", tz: [0, 1, 9, -5], peak: [10, 24], shifts: false,
    shape: (dow, h) => (dow >= 1 && dow <= 5 && h >= 7 && h < 18 ? (h === 8 || h === 14 || h === 15 ? 1 : 0.55) : 0),
    templates: [
      { name: "quote", weight: 8, steps: [
        { action: "fx.get_rate", type: "api_request", res: "pairs/{pair}", repeat: [1, 3] },
        { action: "fx.quote", type: "tool_call", res: "pairs/{pair}", amount: 1 },
      ] },
      { name: "trade", weight: 3, steps: [
        { action: "fx.get_rate", type: "api_request", res: "pairs/{pair}" },
        { action: "fx.check_limit", type: "tool_call", res: "clients/{cust}" },
        { action: "fx.place_order", type: "transaction", res: "pairs/{pair}", amount: 1 },
        { action: "fx.confirm", type: "message", res: "clients/{cust}", p: 0.8 },
      ] },
    ],
    scopes: ["fx.*", "clients.read"],
    dormant: [
      { action: "fx.amend_limit", type: "tool_call", res: "clients/{cust}" },
      { action: "clients.read", type: "data_access", res: "clients/{cust}/profile", read: { key: "records", scale: 2 } },
      { action: "fx.cancel_all", type: "transaction", res: "pairs/{pair}" },
    ],
    adopt: { action: "fx.hedge_suggest", type: "tool_call", res: "pairs/{pair}" },
    outside: ["payments.transfer", "ledger.post_adjustment", "users.create"],
    gapMs: 2_500, amount: [20_000, 400_000], volume: [20, 200], currencies: ["EUR", "USD", "JPY"],
    impossible: [["fx.place_order", "fx.confirm"], ["fx.confirm", "fx.get_rate"]],
  },
  {
    name: "claims", tz: [0, 1, 2], peak: [5, 12], shifts: false,
    shape: (dow, h) => (dow >= 1 && dow <= 5 && h >= 8 && h < 17 ? (h === 12 ? 0.5 : 1) : dow === 6 && h >= 9 && h < 12 ? 0.3 : 0),
    templates: [
      { name: "claim", weight: 5, steps: [
        { action: "claims.intake", type: "api_request", res: "claims/{case}" },
        { action: "claims.fetch_policy", type: "data_access", res: "policies/{cust}", read: { key: "records", scale: 0.05 } },
        { action: "claims.fetch_evidence", type: "data_access", res: "claims/{case}/evidence/{part}", repeat: [1, 5], read: { key: "bytes", scale: 1 } },
        { action: "claims.assess", type: "tool_call", res: "claims/{case}" },
        { action: "claims.payout", type: "transaction", res: "claims/{case}", amount: 1, p: 0.6 },
        { action: "claims.close", type: "api_request", res: "claims/{case}" },
      ] },
      { name: "status", weight: 2, steps: [
        { action: "claims.lookup", type: "data_access", res: "claims/{case}", read: { key: "records", scale: 0.01 } },
        { action: "claims.reply", type: "message", res: "policies/{cust}" },
      ] },
    ],
    scopes: ["claims.*", "policies.cancel", "payments.refund"],
    dormant: [
      { action: "claims.override_payout_limit", type: "tool_call", res: "claims/{case}" },
      { action: "policies.cancel", type: "tool_call", res: "policies/{cust}" },
      { action: "payments.refund", type: "transaction", res: "policies/{cust}", amount: 2 },
    ],
    adopt: { action: "claims.fraud_check", type: "tool_call", res: "claims/{case}" },
    outside: ["ledger.reverse_posting", "users.grant_role", "fx.place_order"],
    gapMs: 30_000, amount: [300, 6_000], volume: [50_000, 800_000], currencies: ["EUR", "GBP"],
    impossible: [["claims.payout", "claims.intake"], ["claims.intake", "claims.close"], ["claims.close", "claims.intake"]],
  },
  {
    name: "reporting", tz: [0, -5, 1], peak: [3, 8], shifts: false,
    shape: (dow, h) => (dow === 1 && h >= 6 && h < 10 ? 1 : dow >= 1 && dow <= 5 && h >= 7 && h < 9 ? 0.35 : 0),
    templates: [
      { name: "build", weight: 4, steps: [
        { action: "warehouse.list_partitions", type: "data_access", res: "warehouse/{day}" },
        { action: "warehouse.read_partition", type: "data_access", res: "warehouse/{day}/part-{part}", repeat: [4, 24], read: { key: "bytes", scale: 1 } },
        { action: "report.render", type: "tool_call", res: "reports/{case}" },
        { action: "report.publish", type: "message", res: "reports/{case}", p: 0.7 },
      ] },
      { name: "adhoc", weight: 1, steps: [
        { action: "warehouse.query", type: "data_access", res: "warehouse/{day}", read: { key: "bytes", scale: 0.3 }, repeat: [1, 3] },
      ] },
    ],
    scopes: ["warehouse.*", "report.*", "warehouse.export_raw"],
    dormant: [
      { action: "warehouse.export_raw", type: "data_access", res: "warehouse/{day}/raw", read: { key: "bytes", scale: 4 } },
      { action: "report.share_external", type: "message", res: "reports/{case}" },
    ],
    adopt: { action: "report.snapshot", type: "tool_call", res: "reports/{case}" },
    outside: ["payments.transfer", "customers.delete", "admin.rotate_keys"],
    gapMs: 6_000, amount: [1, 1], volume: [5_000_000, 80_000_000], currencies: ["EUR"],
    impossible: [["report.publish", "warehouse.list_partitions"], ["report.render", "report.publish"]],
  },
  {
    name: "treasury", tz: [0, 1, -5], peak: [2, 3], shifts: false,
    shape: (dow, h) => (dow >= 1 && dow <= 5 && (h === 6 || h === 12 || h === 16) ? 1 : 0),
    templates: [
      { name: "sweep", weight: 1, steps: [
        { action: "treasury.balances", type: "data_access", res: "accounts/{acct}", read: { key: "records", scale: 1 }, repeat: [1, 3] },
        { action: "treasury.forecast", type: "tool_call", res: "accounts/{acct}", p: 0.5 },
        { action: "treasury.sweep", type: "transaction", res: "accounts/{acct}", amount: 1 },
        { action: "treasury.report", type: "message", res: "accounts/{acct}", p: 0.3 },
      ] },
    ],
    scopes: ["treasury.*", "payments.transfer_external"],
    dormant: [
      { action: "payments.transfer_external", type: "transaction", res: "beneficiaries/{cust}", amount: 0.5 },
      { action: "treasury.change_beneficiary", type: "tool_call", res: "beneficiaries/{cust}" },
    ],
    adopt: { action: "treasury.fx_hedge", type: "tool_call", res: "accounts/{acct}" },
    outside: ["users.grant_role", "ledger.purge", "kyc.override_decision"],
    gapMs: 8_000, amount: [200_000, 5_000_000], volume: [5, 40], currencies: ["EUR", "USD"],
    impossible: [["treasury.sweep", "treasury.report"], ["treasury.balances", "treasury.sweep"]],
  },
];
