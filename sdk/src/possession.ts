import { bufferSource, toBase64 } from "./base64.ts";
import { checkContentDigest } from "./digest.ts";
import type { GatewayProblemName } from "./problems.ts";
import { normaliseSerial } from "./serial.ts";
import { ALGORITHM, MAX_FIELD_CHARS, REQUIRED_COMPONENTS, signatureBase, type MessageView } from "./signature-base.ts";
import { isInnerList, parseDictionary, serializeInnerList, type BareItem } from "./structured-fields.ts";
import type { WebCryptoKey } from "./types.ts";

/** The body as received, or why it could not be read (too large, already consumed by a parser). */
export type BodyRead = { ok: true; bytes: Uint8Array } | { ok: false; problem: GatewayProblemName; detail: string };

export interface PossessionPolicy {
  label: string;
  /** Lower-case `host[:port]` values this gateway answers for; the covered `@authority` must be one. */
  authorities: ReadonlySet<string>;
  maxSkewMs: number;
  now: () => number;
}

/** A signature that passed every check that needs no key: what is left is the cryptography. */
export interface InspectedSignature {
  label: string;
  base: Uint8Array;
  signature: Uint8Array;
  created: number;
  nonce: string | undefined;
  /** Replay-store key and how long it must be remembered (until the signature would be stale anyway). */
  replayKey: string;
  rememberUntil: number;
}

export type Inspection = { ok: true; sig: InspectedSignature } | { ok: false; problem: GatewayProblemName; detail: string };

const fail = (problem: GatewayProblemName, detail: string): Inspection => ({ ok: false, problem, detail });

/**
 * Checks a request's RFC 9421 signature up to (not including) the public-key operation: the label
 * exists, the required components are covered, `keyid` is the serial the request names, `created`
 * and `Date` are inside the skew window, and `Content-Digest` matches the body. Cheap, local, and
 * done before asking the edge, so junk costs the gateway no request.
 */
export async function inspectSignature(msg: MessageView, serial: string, readBody: () => Promise<BodyRead>, policy: PossessionPolicy): Promise<Inspection> {
  const inputField = msg.header("signature-input");
  const sigField = msg.header("signature");
  if (inputField === undefined || sigField === undefined) return fail("signature-missing", "the request carries no Signature-Input and Signature (RFC 9421)");
  if (inputField.length > MAX_FIELD_CHARS || sigField.length > MAX_FIELD_CHARS) {
    return fail("signature-invalid", `Signature-Input and Signature are limited to ${MAX_FIELD_CHARS} characters each`);
  }
  const input = parseDictionary(inputField)?.get(policy.label);
  const sigMember = parseDictionary(sigField)?.get(policy.label);
  if (!input || !isInnerList(input)) return fail("signature-invalid", `Signature-Input has no signature labelled '${policy.label}'`);
  if (!sigMember || isInnerList(sigMember) || !(sigMember.value instanceof Uint8Array)) return fail("signature-invalid", `Signature has no byte sequence labelled '${policy.label}'`);

  const components: string[] = [];
  for (const item of input.items) {
    if (typeof item.value !== "string" || item.params.length > 0) return fail("signature-invalid", "covered components must be plain component names");
    if (components.includes(item.value)) return fail("signature-invalid", `component "${item.value}" is covered twice`);
    components.push(item.value);
  }
  const required: string[] = [...REQUIRED_COMPONENTS];
  if (msg.url.search) required.push("@query");
  const uncovered = required.filter((c) => !components.includes(c));
  if (uncovered.length > 0) return fail("signature-invalid", `the signature does not cover ${uncovered.map((c) => `"${c}"`).join(", ")}`);

  const authority = msg.url.host.toLowerCase();
  if (!policy.authorities.has(authority)) {
    return fail("signature-invalid", `the request is for authority '${authority}', which this gateway does not answer for (${[...policy.authorities].join(", ")})`);
  }

  const param = (name: string): BareItem | undefined => input.params.find(([k]) => k === name)?.[1];
  const created = param("created");
  const keyid = param("keyid");
  const alg = param("alg");
  const expires = param("expires");
  const nonce = param("nonce");
  if (typeof created !== "number" || !Number.isInteger(created)) return fail("signature-invalid", "signature parameter 'created' is missing");
  if (typeof keyid !== "string" || normaliseSerial(keyid) !== serial) return fail("signature-invalid", "signature 'keyid' is not the serial in Kakunin-Agent-Serial");
  if (alg !== undefined && alg !== ALGORITHM) return fail("signature-invalid", `signature algorithm must be ${ALGORITHM}`);
  if (nonce !== undefined && typeof nonce !== "string") return fail("signature-invalid", "signature parameter 'nonce' must be a string");
  // RFC 9421 §2.3: an Integer. One of another type is refused, not skipped: skipping it would accept
  // a signature its signer meant to have expired.
  if (expires !== undefined && (typeof expires !== "number" || !Number.isInteger(expires))) return fail("signature-invalid", "signature parameter 'expires' must be an integer");

  const now = policy.now();
  const skew = policy.maxSkewMs;
  if (Math.abs(now - created * 1000) > skew) return fail("signature-stale", `signature created ${new Date(created * 1000).toISOString()}, more than ${skew / 1000} s from now`);
  if (expires !== undefined && expires * 1000 < now) return fail("signature-stale", "signature has expired");
  const date = Date.parse(msg.header("date") ?? "");
  if (Number.isNaN(date)) return fail("signature-invalid", "the Date header is missing or not an HTTP date");
  if (Math.abs(now - date) > skew) return fail("signature-stale", `Date ${new Date(date).toUTCString()} is more than ${skew / 1000} s from now`);

  const base = signatureBase(components, serializeInnerList(input), msg);
  if (!base.ok) return fail("signature-invalid", base.error);
  const body = await readBody();
  if (!body.ok) return body;
  const digest = await checkContentDigest(msg.header("content-digest"), body.bytes);
  if (!digest.ok) return fail("digest-mismatch", digest.error);

  const signature = sigMember.value;
  return {
    ok: true,
    sig: {
      label: policy.label,
      base: new TextEncoder().encode(base.value),
      signature,
      created,
      nonce,
      replayKey: `${serial} ${nonce === undefined ? `s:${toBase64(signature)}` : `n:${nonce}`}`,
      rememberUntil: Math.max(created * 1000, date) + skew,
    },
  };
}

/** The public-key step: RSASSA-PKCS1-v1_5 / SHA-256 over the signature base. */
export async function signatureMatches(key: WebCryptoKey, sig: InspectedSignature): Promise<boolean> {
  try {
    return await crypto.subtle.verify({ name: "RSASSA-PKCS1-v1_5" }, key, bufferSource(sig.signature), bufferSource(sig.base));
  } catch {
    return false;
  }
}
