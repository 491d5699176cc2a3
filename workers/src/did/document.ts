import * as asn1js from "asn1js";

/** Base64 body of the first PEM block → DER bytes. */
export function pemToDer(pem: string): Uint8Array<ArrayBuffer> {
  const b64 = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, "");
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The SubjectPublicKeyInfo of a DER certificate (TBSCertificate field 7, after the [0] version). */
export function spkiOf(certDer: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> | undefined {
  const cert = asn1js.fromBER(certDer.slice().buffer).result;
  const tbs = cert instanceof asn1js.Sequence ? cert.valueBlock.value[0] : undefined;
  if (!(tbs instanceof asn1js.Sequence)) return undefined;
  const fields = tbs.valueBlock.value;
  const offset = fields[0]?.idBlock.tagClass === 3 ? 1 : 0;
  const spki = fields[offset + 5];
  return spki ? new Uint8Array(spki.toBER(false)) : undefined;
}

export interface DidDocument {
  "@context": string[];
  id: string;
  alsoKnownAs: string[];
  controller: string;
  verificationMethod: { id: string; type: "JsonWebKey2020"; controller: string; publicKeyJwk: JsonWebKey & { x5c: string[] } }[];
  authentication: string[];
  assertionMethod: string[];
}

/**
 * did:kakunin:<agent id> — the agent's current certificate key as a JsonWebKey2020 verification
 * method (id fragment = certificate serial), with the certificate in x5c so a verifier can chain
 * it to the Kakunin CA.
 */
export async function didDocument(agentId: string, serial: string, certificatePem: string): Promise<DidDocument | undefined> {
  const der = pemToDer(certificatePem);
  const spki = spkiOf(der);
  if (!spki) return undefined;
  const key = await crypto.subtle.importKey("spki", spki, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]);
  const jwk = (await crypto.subtle.exportKey("jwk", key)) as JsonWebKey;
  const did = `did:kakunin:${agentId}`;
  const vm = `${did}#${serial}`;
  let x5c = "";
  for (const b of der) x5c += String.fromCharCode(b);
  return {
    "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
    id: did,
    alsoKnownAs: [`urn:kakunin:agent:${agentId}`],
    controller: did,
    verificationMethod: [{
      id: vm, type: "JsonWebKey2020", controller: did,
      publicKeyJwk: { kty: jwk.kty, n: jwk.n, e: jwk.e, alg: "RS256", use: "sig", x5c: [btoa(x5c)] },
    }],
    authentication: [vm],
    assertionMethod: [vm],
  };
}
