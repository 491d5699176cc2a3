import { toBase64, toBase64Url } from "./base64.ts";
import { contentDigest } from "./digest.ts";
import { normaliseSerial } from "./serial.ts";
import { AGENT_SERIAL_HEADER, ALGORITHM, REQUIRED_COMPONENTS, signatureBase } from "./signature-base.ts";
import { SigningError, type Signer } from "./signers.ts";
import { serializeInnerList, type Params } from "./structured-fields.ts";

export interface SignRequestOptions {
  /** The agent's certificate serial; sent as `Kakunin-Agent-Serial` and as the signature's `keyid`. */
  serial: string;
  signer: Signer;
  /** Signing time, `created` and `Date`; defaults to now. */
  created?: Date;
  /** Defaults to 16 random bytes (base64url): what the gateway remembers to refuse a replay. */
  nonce?: string;
  /** Signature label; default `sig1`. */
  label?: string;
}

/**
 * Returns a copy of `request` carrying `Date`, `Content-Digest`, `Kakunin-Agent-Serial`,
 * `Signature-Input` and `Signature` (RFC 9421, RFC 9530). The body is read once to digest it and
 * sent as the same bytes. Throws `SigningError` when the signer fails: nothing goes out unsigned.
 */
export async function signRequest(request: Request, options: SignRequestOptions): Promise<Request> {
  const serial = normaliseSerial(options.serial);
  if (!serial) throw new SigningError(`'${options.serial}' is not a certificate serial number`);
  const label = options.label ?? "sig1";
  const created = options.created ?? new Date();
  const nonce = options.nonce ?? toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  if (!/^[a-z*][a-z0-9_\-.*]*$/.test(label)) throw new SigningError(`'${label}' is not a signature label`);
  if (!/^[\x20-\x7e]+$/.test(nonce)) throw new SigningError("a nonce is printable ASCII");
  const bodyless = request.method === "GET" || request.method === "HEAD";
  const body = bodyless ? new Uint8Array(0) : new Uint8Array(await request.clone().arrayBuffer());

  const headers = new Headers(request.headers);
  headers.set("date", created.toUTCString());
  headers.set("content-digest", await contentDigest(body));
  headers.set(AGENT_SERIAL_HEADER, serial);
  const url = new URL(request.url);
  const components: string[] = [...REQUIRED_COMPONENTS];
  if (url.search) components.push("@query");
  const params: Params = [["created", Math.floor(created.getTime() / 1000)], ["keyid", serial], ["alg", ALGORITHM], ["nonce", nonce]];
  const signatureParams = serializeInnerList({ items: components.map((c) => ({ value: c, params: [] })), params });

  const view = { method: request.method, url, header: (name: string) => headers.get(name) ?? undefined };
  const base = signatureBase(components, signatureParams, view);
  if (!base.ok) throw new SigningError(`cannot build the signature base: ${base.error}`);
  // The request's signal reaches the signer: a request its caller aborted is not signed, and an
  // abort while the origin signs ends that exchange (it was waited for up to the signer's timeout).
  const signal: AbortSignal | undefined = request.signal;
  if (signal?.aborted) throw signal.reason;
  const signature = await options.signer.sign(new TextEncoder().encode(base.value), { serial, signal });
  headers.set("signature-input", `${label}=${signatureParams}`);
  headers.set("signature", `${label}=:${toBase64(signature)}:`);
  // Never followed: the signature covers @authority and @path, so it cannot verify at a redirect's
  // target, and fetch would hand these headers (and the body) to that origin, which could replay
  // them at the gateway within its skew window. The 3xx comes back to the caller, who can re-sign.
  const signed = new Request(request.url, { method: request.method, headers, body: bodyless ? undefined : body, redirect: "manual", signal: request.signal });
  return signed;
}
