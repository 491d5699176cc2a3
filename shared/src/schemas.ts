import { z } from "zod";
import { SENSITIVITIES } from "./tenant-scoring.ts";

/**
 * Input schemas shared by the origin, the edge, the SDK and the CLI. Field names are the design's
 * contract; limits are generous but finite so no field can be used to exhaust memory.
 */
// No `i` flag: OpenAPI documents carry the pattern without flags, where /i would be lost.
export const SCOPE_PATTERN = /^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.\*)?)$/;
export const MODEL_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;
export const SERIAL_PATTERN = /^[0-9a-f]{1,40}$/;

export const scopeSchema = z
  .string()
  .max(128)
  .regex(SCOPE_PATTERN, "a scope is dotted segments of [A-Za-z0-9_-], optionally ending in .* (or just *)");

/**
 * No character that steers a terminal or reorders text instead of printing: C0 controls, DEL, C1
 * controls, bidirectional embeddings, overrides and isolates. Names, models and reasons are shown
 * to people (CLI, console, reports, relying parties' `kakunin verify`); a U+202E in an agent's
 * action reversed the amount shown beside it, an ESC sequence in a model name could hide a
 * revocation on a relying party's terminal. Bidi *marks* (LRM, RLM, ALM) stay allowed: right-to-left
 * names need them. PLAIN_TEXT_PATTERN also allows tab and line breaks, for free-text reasons.
 */
// A one-line value also refuses U+2028 and U+2029 (line and paragraph separators): Unicode's line
// breaking rules break there, so the console and the HTML report showed a forged second line.
export const PLAIN_LINE_PATTERN = /^[^\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2028\u2029\u2066-\u2069]*$/;
export const PLAIN_TEXT_PATTERN = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]*$/;
export const PLAIN_MESSAGE = "must not contain control characters or bidirectional overrides";

/**
 * A character a person sees: not white space, not a control, format, surrogate, private-use or
 * unassigned code point, not default-ignorable (zero-width spaces and joiners, word joiner, BOM,
 * tag characters, Hangul fillers), not a combining mark on its own, not the blank Braille pattern.
 * trim() removes spaces but none of these, so a name of only U+200B passed as "not empty".
 */
const VISIBLE_CHARACTER = /[^\p{White_Space}\p{C}\p{M}\p{Default_Ignorable_Code_Point}\u2800]/u;
export const INVISIBLE_MESSAGE = "must contain a visible character (not only spaces, zero-width or format characters)";

/** A one-line name shown to people, trimmed, 1 to `max` characters, at least one of them visible. */
export const plainLine = (max: number) =>
  z.string().trim().min(1).max(max).regex(PLAIN_LINE_PATTERN, PLAIN_MESSAGE).refine((v) => v === "" || VISIBLE_CHARACTER.test(v), INVISIBLE_MESSAGE); // empty: min(1) says so, once
/** Free text for people and the audit log (line breaks allowed), trimmed, 1 to `max` characters. */
export const plainText = (max: number) => z.string().trim().min(1).max(max).regex(PLAIN_TEXT_PATTERN, PLAIN_MESSAGE);

export const modelSchema = z.strictObject({
  name: plainLine(128),
  version: plainLine(64),
  hash: z
    .string()
    .regex(MODEL_HASH_PATTERN, "must be sha256:<64 lowercase hex digits> of the weights, prompt and config"),
});

export const ownerSchema = z.strictObject({
  name: plainLine(128),
  email: z.email().max(254),
});

/** Printable text without control characters: names end up in certificate subjects and logs. */
export const displayName = plainLine(64);

export const agentCreateSchema = z.strictObject({
  name: displayName,
  model: modelSchema,
  owner: ownerSchema,
  scopes: z.array(scopeSchema).max(256).default([]),
});

export const agentPatchSchema = z
  .strictObject({
    name: displayName.optional(),
    model: modelSchema.partial().strict().optional(),
    owner: ownerSchema.partial().strict().optional(),
    scopes: z.array(scopeSchema).max(256).optional(),
    /** How strongly the tenant's scoring treats this agent's evidence (admin only). */
    sensitivity: z.enum(SENSITIVITIES).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: "at least one field to change is required" });

/** RFC 5280 §5.3.1 CRLReason names, as CRLs and OCSP responses carry them. */
export const CRL_REASONS = [
  "unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
  "cessationOfOperation", "certificateHold", "privilegeWithdrawn", "aACompromise",
] as const;
export type CrlReason = (typeof CRL_REASONS)[number];

/**
 * The reasons a revocation may give: every CRLReason but certificateHold. RFC 5280 makes a hold
 * temporary (released by removeFromCRL) and the CA/Browser Forum Baseline Requirements forbid it;
 * here nothing un-revokes a certificate, so a "hold" would be a final revocation that relying
 * parties are told may end. CRL_REASONS keeps the name: certificates revoked with it before it
 * was refused keep their code.
 */
export const REVOCATION_REASONS = [
  "unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
  "cessationOfOperation", "privilegeWithdrawn", "aACompromise",
] as const satisfies readonly Exclude<CrlReason, "certificateHold">[];

export const CERTIFICATE_HOLD_REFUSED =
  "certificateHold is not offered: revocation is final here (RFC 5280 holds are temporary, and the CA/Browser Forum " +
  "Baseline Requirements forbid them). To stop an agent for now, revoke with another reason (e.g. privilegeWithdrawn) " +
  "and certify it again when it may act.";

const REASON_BY_NAME = new Map<string, (typeof REVOCATION_REASONS)[number]>(REVOCATION_REASONS.map((r) => [r.toLowerCase(), r]));

/**
 * The RFC 5280 reason a free-text revocation `reason` names, if it is one of them (case, spaces,
 * `_` and `-` aside: "keyCompromise", "Key compromise", "KEY_COMPROMISE"), else `unspecified`. A
 * caller who writes `{"reason": "keyCompromise"}` means the code, and relying parties reading the
 * CRL or OCSP must see it (a compromised key is distrusted back to its compromise, not only from
 * now). A sentence is only text; certificateHold is never given (REVOCATION_REASONS).
 */
export function reasonCodeOf(reason: string): (typeof REVOCATION_REASONS)[number] {
  return REASON_BY_NAME.get(reason.trim().replace(/[\s_-]+/g, "").toLowerCase()) ?? "unspecified";
}

export const revokeSchema = z.strictObject({
  /** Free text for humans and the audit log (the certificates spec shows a sentence). */
  reason: plainText(512),
  /** Machine-readable reason for CRL/OCSP; when omitted, the one `reason` names (reasonCodeOf), else `unspecified`. */
  reason_code: z
    .enum(REVOCATION_REASONS, { error: (issue) => (issue.input === "certificateHold" ? CERTIFICATE_HOLD_REFUSED : undefined) })
    .describe(
      "RFC 5280 CRLReason carried by the CRL entry and OCSP response. When omitted: the reason `reason` names if it is " +
        "one (e.g. keyCompromise), else unspecified. " +
        "certificateHold is refused (422): revocation is final; revoke with another reason and certify the agent again.",
    )
    .optional(),
});

export type AgentCreate = z.infer<typeof agentCreateSchema>;
export type AgentPatch = z.infer<typeof agentPatchSchema>;
