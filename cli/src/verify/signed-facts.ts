/**
 * What the signed entries say about the agent and its certificates. A bundle's `agent`, `tenant`
 * and `certificates[].status` are outside the signed tree (anyone can edit them without touching a
 * hash), so the verifier compares them with this, and the report prints this, never the header.
 * Fed one entry at a time (the verifier streams); holds only the agent record and one small record
 * per certificate.
 */
import { canonicalize } from "@kakunin/shared";

/** The entry kinds whose `data` this reads; the fast path parses these entries whole. */
export const FACT_KINDS: ReadonlySet<string> = new Set([
  "agent.created",
  "agent.updated",
  "certificate.issued",
  "certificate.revoked",
  "certificate.renewed",
  "certificate.superseded",
]);

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const ms = (v: unknown): number => (typeof v === "string" ? Date.parse(v) : NaN);

export interface AgentFacts {
  name: string;
  model: Json;
  owner: Json;
  scopes: unknown[];
  /** Entry index of agent.created, then of each agent.updated applied. */
  from: number[];
}

export interface CertificateFacts {
  serial: string;
  /** Index and log time of its certificate.issued entry. */
  issuedEntry: number;
  issuedAt: string;
  /** SHA-256 (hex) of the certificate's DER, as its certificate.issued entry signs it. */
  sha256: string | null;
  notAfter: string | null;
  revokedAt: string | null;
  revocationReason: string | null;
  /** From certificate.renewed (or .superseded): when it stops speaking for the agent. */
  supersededAt: string | null;
  renewed: boolean;
  superseded: boolean;
}

const serialKey = (s: string): string => s.toLowerCase().replace(/^0+/, "");

export class SignedFacts {
  agent: AgentFacts | null = null;
  readonly certificates = new Map<string, CertificateFacts>();

  add(kind: string, entry: Json): void {
    if (!FACT_KINDS.has(kind)) return;
    const data = obj(entry.data);
    const index = typeof entry.index === "number" ? entry.index : -1;
    if (kind === "agent.created") {
      this.agent = {
        name: str(data.name) ?? "",
        model: obj(data.model),
        owner: obj(data.owner),
        scopes: Array.isArray(data.scopes) ? data.scopes : [],
        from: [index],
      };
    } else if (kind === "agent.updated" && this.agent) this.#update(this.agent, obj(data.changes), index);
    else this.#certificate(kind, data, str(entry.at) ?? "", index);
  }

  /** The certificate recorded for a serial (any spelling: case, leading zeros). */
  certificate(serial: string): CertificateFacts | undefined {
    return this.certificates.get(serialKey(serial));
  }

  // PATCH merges each given member over the stored one, exactly as patch-agent.ts updates the row.
  #update(a: AgentFacts, changes: Json, index: number): void {
    if (typeof changes.name === "string") a.name = changes.name;
    if (changes.model !== undefined) a.model = { ...a.model, ...obj(changes.model) };
    if (changes.owner !== undefined) a.owner = { ...a.owner, ...obj(changes.owner) };
    if (Array.isArray(changes.scopes)) a.scopes = changes.scopes;
    a.from.push(index);
  }

  #certificate(kind: string, data: Json, at: string, index: number): void {
    const serial = str(data.serial_number);
    if (serial === null) return;
    if (kind === "certificate.issued") {
      this.certificates.set(serialKey(serial), {
        serial,
        issuedEntry: index,
        issuedAt: at,
        sha256: str(data.certificate_sha256),
        notAfter: str(data.not_after),
        revokedAt: null,
        revocationReason: null,
        supersededAt: null,
        renewed: false,
        superseded: false,
      });
      return;
    }
    const c = this.certificate(serial);
    if (!c) return;
    if (kind === "certificate.revoked") {
      c.revokedAt = str(data.revoked_at) ?? at;
      c.revocationReason = str(data.reason);
    } else if (kind === "certificate.renewed") {
      // A renewal also ends the overlap of any earlier predecessor still in one (renew.ts).
      for (const other of this.certificates.values()) {
        if (other !== c && other.renewed && !other.superseded && (other.supersededAt === null || ms(at) < ms(other.supersededAt))) other.supersededAt = at;
      }
      c.renewed = true;
      c.supersededAt = str(data.superseded_at);
    } else if (kind === "certificate.superseded") {
      c.superseded = true;
      c.supersededAt = str(data.superseded_at) ?? at;
    }
  }
}

/** A certificate's status at `asOf` (the signed tree head's time), as the origin's effectiveStatus computes it. */
export function statusAt(c: CertificateFacts, notAfter: number, asOf: number): "active" | "renewed" | "superseded" | "revoked" | "expired" {
  if (c.revokedAt !== null) return "revoked";
  if (c.superseded || (c.renewed && c.supersededAt !== null && ms(c.supersededAt) <= asOf)) return "superseded";
  if (notAfter <= asOf) return "expired";
  return c.renewed ? "renewed" : "active";
}

/** Equality of two JSON values as their canonical text (member order does not matter). */
export function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalize(a) === canonicalize(b);
  } catch {
    return false;
  }
}

/** Issue time as the origin stores it: the certificate.issued entry's time, floored to the second. */
export function issuedAtOf(c: CertificateFacts): number {
  return Math.floor(ms(c.issuedAt) / 1000) * 1000;
}
