import { bufferSource, fromBase64, toBase64 } from "./base64.ts";
import type { FetchLike, WebCryptoKey } from "./types.ts";
import { boundedFetch } from "./default-fetch.ts";
import { numberOption } from "./options.ts";

/** Produces RSASSA-PKCS1-v1_5 / SHA-256 signatures with the key certified under `serial`. */
export interface Signer {
  /**
   * `signal`: the signed request's own (signRequest passes it). Once it aborts, a signer that waits
   * on something (originSigner) stops waiting and throws its reason: nothing is signed for a request
   * its caller gave up on.
   */
  sign(data: Uint8Array, context: { serial: string; signal?: AbortSignal }): Promise<Uint8Array>;
}

/** Thrown by `signRequest` when the signer cannot sign: nothing may be sent unsigned. */
export class SigningError extends Error {
  override readonly name = "SigningError";
  /** HTTP status of the origin's refusal, when there was one. */
  readonly status: number | undefined;
  /** The origin's problem+json body, when there was one. */
  readonly problem: unknown;
  constructor(message: string, status?: number, problem?: unknown) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

export interface OriginSignerOptions {
  /** Base URL of the Kakunin origin. */
  originUrl: string;
  /**
   * The agent's credential (`kka_…`, from `POST /v1/agents/:id/credentials`): it may sign as this
   * agent and mint its ingest tokens, nothing else. Give the agent runtime this, never an API key.
   */
  credential?: string;
  /**
   * @deprecated An admin or issuer API key: still accepted, but it lets whoever holds the runtime
   * re-certify, re-scope and sign as every agent of the tenant. Use `credential`.
   */
  apiKey?: string;
  agentId: string;
  fetch?: FetchLike;
  /**
   * How long one signing exchange with the origin may take, answer included (default 10,000 ms);
   * past it `sign()` throws a SigningError. Without a bound, a hung origin (a blackholed network, a
   * wedged proxy) held every signing caller and its socket forever.
   */
  timeoutMs?: number;
}

/**
 * Signs through `POST /v1/agents/:id/sign`: the agent's private key stays in the origin's key
 * manager (KMS, HSM). Refuses a signature from any certificate other than `serial`, so a rotated
 * certificate fails here with a clear message rather than at the gateway.
 */
export function originSigner(options: OriginSignerOptions): Signer {
  const base = options.originUrl.replace(/\/+$/, "");
  const fetcher = boundedFetch(options.fetch);
  const timeoutMs = numberOption("timeoutMs", options.timeoutMs, 10_000, { min: 1 });
  const url = `${base}/v1/agents/${encodeURIComponent(options.agentId)}/sign`;
  const bearer = options.credential ?? options.apiKey;
  if (!bearer) throw new TypeError("originSigner needs `credential` (the agent's kka_… credential)");
  return {
    async sign(data, { serial, signal }) {
      // A request its caller already gave up on is not signed: no exchange, no signature at the origin.
      if (signal?.aborted) throw signal.reason;
      const controller = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      let onAbort: (() => void) | undefined;
      // Raced, not only signalled: a caller's fetch may ignore the signal. The caller's abort ends
      // the exchange as the deadline does (its reason is what sign() throws, as fetch's would be).
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new SigningError(`origin did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        onAbort = () => {
          controller.abort(signal?.reason);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      deadline.catch(() => undefined);
      let res: Response;
      let body: unknown;
      try {
        try {
          const request = new Request(url, {
            method: "POST",
            headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json", accept: "application/json" },
            body: JSON.stringify({ payload_b64: toBase64(data), algorithm: "RSASSA_PKCS1_V1_5_SHA_256" }),
            signal: controller.signal,
          });
          res = await Promise.race([fetcher(request, controller.signal), deadline]);
        } catch (e) {
          if (e instanceof SigningError) throw e;
          if (signal?.aborted) throw signal.reason;
          throw new SigningError(controller.signal.aborted ? `origin did not answer within ${timeoutMs} ms` : `origin unreachable: ${e instanceof Error ? e.message : String(e)}`);
        }
        body = await Promise.race([res.json().catch(() => undefined), deadline]);
      } finally {
        if (timer !== undefined) clearTimeout(timer);
        // A long-lived caller signal (one per agent, say) must not collect a listener per exchange.
        if (onAbort) signal?.removeEventListener("abort", onAbort);
      }
      if (res.status !== 200) {
        const detail = isRecord(body) && typeof body.detail === "string" ? body.detail : `HTTP ${res.status}`;
        throw new SigningError(`origin refused to sign: ${detail}`, res.status, body);
      }
      const d = isRecord(body) && isRecord(body.data) ? body.data : undefined;
      const signature = typeof d?.signature_b64 === "string" ? fromBase64(d.signature_b64) : undefined;
      if (!d || !signature) throw new SigningError("origin answered without a signature");
      // Not a refusal: the origin signed, with another certificate's key. `status` and `problem`
      // describe refusals only (sdk/README.md), never a 200 body.
      if (d.serial_number !== serial) throw new SigningError(`the agent's active certificate is ${String(d.serial_number)}, not ${serial}`);
      return signature;
    },
  };
}

/** Signs with a local WebCrypto RSA key (imported or generated for RSASSA-PKCS1-v1_5 with SHA-256). */
export function cryptoKeySigner(privateKey: WebCryptoKey): Signer {
  return {
    async sign(data) {
      return new Uint8Array(await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, privateKey, bufferSource(data)));
    },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
