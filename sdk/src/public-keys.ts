import { bufferSource } from "./base64.ts";
import { TtlCache } from "./cache.ts";
import { certificateParts } from "./der.ts";
import type { WebCryptoKey } from "./types.ts";

export type KeyResult = { ok: true; key: WebCryptoKey } | { ok: false; error: string };

/**
 * Imported public keys per serial. A serial names one certificate forever, so its key never changes:
 * an hour's TTL only bounds memory for agents that stopped calling.
 */
export class PublicKeys {
  readonly #cache = new TtlCache<{ pending: Promise<KeyResult>; key?: WebCryptoKey }>(10_000);

  /** The key for `serial` from its certificate, imported once. */
  get(serial: string, certificatePem: string): Promise<KeyResult> {
    const hit = this.#cache.get(serial);
    if (hit) return hit.pending;
    const entry: { pending: Promise<KeyResult>; key?: WebCryptoKey } = {
      pending: importCertificateKey(serial, certificatePem).then((r) => {
        if (r.ok) entry.key = r.key;
        else this.#cache.delete(serial);
        return r;
      }),
    };
    this.#cache.set(serial, entry, 3_600_000);
    return entry.pending;
  }

  /** A key already imported: what a degraded check (edge unavailable, no certificate) can still use. */
  known(serial: string): WebCryptoKey | undefined {
    return this.#cache.get(serial)?.key;
  }
}

async function importCertificateKey(serial: string, pem: string): Promise<KeyResult> {
  const parts = certificateParts(pem);
  if (!parts.ok) return parts;
  if (strip(parts.serial) !== strip(serial)) return { ok: false, error: `the certificate's serial is ${parts.serial}, not ${serial}` };
  try {
    const key = await crypto.subtle.importKey("spki", bufferSource(parts.spki), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);
    return { ok: true, key };
  } catch (e) {
    return { ok: false, error: `the certificate's public key is not an RSA key: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function strip(hex: string): string {
  return hex.replace(/^0+(?=.)/, "");
}
