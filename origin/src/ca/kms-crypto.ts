import { webcrypto } from "node:crypto";
import type { KeyManager, KeyManagerError } from "../kms/types.ts";
import type { x509 } from "./x509.ts";

/** The `Crypto` and `CryptoKey` types as @peculiar/x509 declares them (the origin has no DOM lib). */
export type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
export type X509SigningKey = x509.X509CertificateCreateWithKeyParams["signingKey"];

/** Signing failed inside the KeyManager; carries the backend's error out of @peculiar/x509. */
export class KeyManagerSignError extends Error {
  constructor(readonly kmError: KeyManagerError) {
    super(kmError.message);
  }
}

/** Algorithm @peculiar/x509 reads off the signing key to pick sha256WithRSAEncryption. */
export const RSA_SHA256 = { name: "RSASSA-PKCS1-v1_5", hash: { name: "SHA-256" } } as const;

/**
 * A WebCrypto `Crypto` whose `subtle.sign` is answered by the KeyManager, so @peculiar/x509 can
 * sign a TBSCertificate or TBSCertList with a key it never sees. Everything else (digests for key
 * identifiers, random values) is the platform's WebCrypto.
 */
export function keyManagerCrypto(keys: KeyManager, ref: string): { crypto: X509Crypto; signingKey: X509SigningKey } {
  const platform = webcrypto.subtle;
  const subtle = {
    digest: platform.digest.bind(platform),
    exportKey: platform.exportKey.bind(platform),
    importKey: platform.importKey.bind(platform),
    verify: platform.verify.bind(platform),
    async sign(_alg: unknown, _key: unknown, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer> {
      const bytes = ArrayBuffer.isView(data)
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data);
      const res = await keys.sign(ref, bytes);
      if (!res.ok) throw new KeyManagerSignError(res.error);
      return res.value.slice().buffer;
    },
  };
  const crypto = {
    subtle,
    getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
    randomUUID: webcrypto.randomUUID.bind(webcrypto),
  };
  // A stand-in key: x509 only reads `.algorithm` from it and passes it back to our sign().
  const signingKey = { algorithm: RSA_SHA256, type: "private", extractable: false, usages: ["sign"] };
  // Structural stand-ins for the DOM types: x509 calls only the members provided above.
  return { crypto: crypto as unknown as X509Crypto, signingKey: signingKey as unknown as X509SigningKey };
}
