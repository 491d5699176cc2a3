import { memoryReplayStore, type ReplayStore } from "./replay.ts";
import { inspectSignature, signatureMatches, type BodyRead, type InspectedSignature } from "./possession.ts";
import { gatewayProblem, type GatewayProblem, type GatewayProblemName } from "./problems.ts";
import { PublicKeys } from "./public-keys.ts";
import { normaliseSerial } from "./serial.ts";
import { AGENT_SERIAL_HEADER, type MessageView } from "./signature-base.ts";
import type { CheckedVerifyData, EdgeReasonCode, VerifyChecks, WebCryptoKey } from "./types.ts";
import { createVerifier, type Verifier, type VerifierOptions } from "./verifier.ts";
import { numberOption } from "./options.ts";

export interface GateOptions {
  /** A verifier to share (its cache and coalescing), or the options to create one. */
  verifier: Verifier | VerifierOptions;
  /** Require an RFC 9421 signature by the certificate's key. Default true. */
  proofOfPossession?: boolean;
  /**
   * The `host[:port]` (as in the request's Host header / URL authority) this gateway answers for;
   * required with proof of possession. A signature must cover `@authority`, and its value must be
   * one of these: a request signed for another gateway is refused (401 signature-invalid), even
   * when someone replays it here with the original Host header.
   */
  authority?: string | readonly string[];
  /** How far `created` and `Date` may be from the gateway's clock (ms). Default 60 000. */
  maxSkewMs?: number;
  /** Where accepted signatures are remembered; in-memory by default (one process only, see ReplayStore). */
  replayStore?: ReplayStore;
  /** Signature label to verify. Default `sig1`. */
  signatureLabel?: string;
  /** Largest body read to check Content-Digest (bytes). Default 1 MiB. */
  maxBodyBytes?: number;
  /** Clock in ms since the epoch; for tests. */
  now?: () => number;
}

/** What the gateway learnt about the caller; handed to the route handler. */
export type KakuninAgent = {
  serial: string;
  signature: { label: string; created: number; nonce: string | undefined } | undefined;
} & (
  /** The edge answered: possession was proven by signature, or not asked for. */
  | { degraded: false; possession: "verified" | "not_required"; data: CheckedVerifyData }
  /**
   * Failing open (`failClosed: false`) without the edge: no status, no scopes were checked, and
   * `possession: "unchecked"` means a signature was present but NOT verified (no public key known
   * for the serial): the caller has proven nothing. Only this branch can carry "unchecked".
   */
  | { degraded: true; possession: "verified" | "not_required" | "unchecked"; data: undefined; cause: string }
);

/** A request as the gate needs it; each framework adapter provides one. */
export interface GateRequest extends MessageView {
  /** Read only when a signature must be checked, so a gateway without proof of possession never touches the body. */
  body(): Promise<BodyRead>;
}

export type GateResult = { ok: true; agent: KakuninAgent } | { ok: false; problem: GatewayProblem };

/** The first reason decides the problem type; all reasons are listed in the problem. */
const FORBIDDEN: Record<EdgeReasonCode | "tenant_not_allowed", GatewayProblemName> = {
  revoked: "certificate-revoked",
  superseded: "certificate-not-valid",
  expired: "certificate-not-valid",
  not_yet_valid: "certificate-not-valid",
  agent_suspended: "agent-inactive",
  agent_retired: "agent-inactive",
  model_hash_mismatch: "model-hash-mismatch",
  scope_not_granted: "scope-not-granted",
  risk_too_high: "risk-too-high",
  tenant_not_allowed: "tenant-not-allowed",
};

/**
 * The edge may send codes this SDK version does not know (a newer edge): they refuse as a generic
 * 403 rather than crash. `hasOwn`, so a code like "toString" is unknown too, not a prototype member.
 */
function problemFor(code: string): GatewayProblemName {
  return Object.hasOwn(FORBIDDEN, code) ? FORBIDDEN[code as keyof typeof FORBIDDEN] : "certificate-not-valid";
}

/** The body cap a middleware reads a signed request's body through (`maxBodyBytes`, default 1 MiB), checked. */
export function maxBodyBytesOf(options: Pick<GateOptions, "maxBodyBytes">): number {
  return numberOption("maxBodyBytes", options.maxBodyBytes, 1024 * 1024, { min: 1, integer: true });
}

/**
 * The framework-neutral check behind both middlewares. Order: who is calling (serial header, then
 * the signature: 401s), whether the edge can answer (503), then what the agent may do (403).
 */
export function createGate(options: GateOptions): (req: GateRequest, checks: VerifyChecks) => Promise<GateResult> {
  const pop = options.proofOfPossession ?? true;
  // Without proof of possession the certificate's PEM is never read, so it is not asked for.
  const verifier = "verify" in options.verifier ? options.verifier : createVerifier({ includeCertificate: pop, ...options.verifier });
  const now = options.now ?? Date.now;
  const authorities = new Set((typeof options.authority === "string" ? [options.authority] : options.authority ?? []).map((a) => a.toLowerCase()));
  if (pop && authorities.size === 0) {
    throw new TypeError("kakunin(): `authority` is required with proof of possession: the host[:port] this gateway answers for, e.g. \"api.example.com\"");
  }
  const policy = { label: options.signatureLabel ?? "sig1", maxSkewMs: numberOption("maxSkewMs", options.maxSkewMs, 60_000, { min: 1 }), now, authorities };
  // Read by the middlewares, checked here too so a gateway built on createGate fails at startup.
  maxBodyBytesOf(options);
  const replays = options.replayStore ?? memoryReplayStore({ now });
  const keys = new PublicKeys();
  const refuse = (name: GatewayProblemName, detail: string, ext: Record<string, unknown> = {}): GateResult => ({ ok: false, problem: gatewayProblem(name, detail, ext) });

  // A signature is remembered until created + skew, and created may be up to one skew ahead: the
  // oldest in a full store is forgotten within twice the skew window.
  const retryAfter = Math.ceil((2 * policy.maxSkewMs) / 1000);

  async function genuine(key: WebCryptoKey, sig: InspectedSignature): Promise<GateResult | undefined> {
    return (await signatureMatches(key, sig)) ? undefined : refuse("signature-invalid", "the signature does not verify with the certificate's public key");
  }

  /**
   * The last step before a request is let through, so only a request the gateway accepts claims
   * its signature: a refused one (revoked, out of scope...) must not fill the store.
   */
  async function claim(sig: InspectedSignature | undefined, serial: string): Promise<GateResult | undefined> {
    if (!sig) return undefined;
    const claimed = await replays.checkAndAdd(sig.replayKey, sig.rememberUntil);
    if (claimed === "full") return refuse("replay-store-full", "the gateway cannot remember another signature (for this agent) right now; try again later", { serial_number: serial, retry_after: retryAfter });
    return claimed ? undefined : refuse("signature-replayed", "this signed request was already accepted once");
  }

  return async (req, checks) => {
    const raw = req.header(AGENT_SERIAL_HEADER);
    if (raw === undefined || raw.trim() === "") return refuse("agent-serial-missing", "send the agent's certificate serial in Kakunin-Agent-Serial");
    const serial = normaliseSerial(raw);
    if (!serial) return refuse("agent-serial-invalid", "Kakunin-Agent-Serial is 1 to 40 hex digits");

    let sig: InspectedSignature | undefined;
    if (pop) {
      const inspected = await inspectSignature(req, serial, () => req.body(), policy);
      if (!inspected.ok) return refuse(inspected.problem, inspected.detail, { serial_number: serial });
      sig = inspected.sig;
    }
    const signature = sig && { label: sig.label, created: sig.created, nonce: sig.nonce };

    const result = await verifier.verify(serial, checks);
    switch (result.kind) {
      case "invalid_serial":
        return refuse("agent-serial-invalid", result.reasons[0]?.detail ?? "invalid serial");
      case "unknown_serial":
        return refuse("unknown-agent", `no certificate with serial ${serial}`, { serial_number: serial });
      case "edge_unavailable": {
        if (!result.valid) return refuse("edge-unavailable", `cannot verify the agent: ${result.cause}`, { serial_number: serial });
        // Failing open: without the certificate only a key imported earlier can still check the signature.
        const known = keys.known(serial);
        if (sig && known) {
          // Only a signature that verified is remembered: an unchecked one could be anyone's.
          const refused = (await genuine(known, sig)) ?? (await claim(sig, serial));
          if (refused) return refused;
        }
        const possession = !sig ? ("not_required" as const) : known ? ("verified" as const) : ("unchecked" as const);
        return { ok: true, agent: { serial, possession, signature, degraded: true, data: undefined, cause: result.cause } };
      }
      case "checked": {
        if (sig) {
          const pem = result.data.certificate_pem;
          // A Verifier built with includeCertificate: false and handed to a PoP gate: refuse, do not guess.
          if (pem === undefined) return refuse("signature-invalid", "cannot check the signature: the verifier did not ask the edge for the certificate (includeCertificate: false)", { serial_number: serial });
          const key = await keys.get(serial, pem);
          if (!key.ok) return refuse("signature-invalid", `cannot check the signature: ${key.error}`, { serial_number: serial });
          const refused = await genuine(key.key, sig);
          if (refused) return refused;
        }
        const first = result.data.reasons[0];
        // `valid` too: evaluate() gives every refusal a reason, but a pass must never rest on the list alone.
        if (first || !result.valid) {
          const detail = result.data.reasons.map((r) => r.detail).join("; ") || `certificate status ${result.data.status}`;
          return refuse(first ? problemFor(first.code) : "certificate-not-valid", detail, { serial_number: serial, reasons: result.data.reasons });
        }
        const replayed = await claim(sig, serial);
        if (replayed) return replayed;
        return { ok: true, agent: { serial, possession: sig ? "verified" : "not_required", signature, degraded: false, data: result.data } };
      }
    }
  };
}
