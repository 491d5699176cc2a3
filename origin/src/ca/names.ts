import { AsnConvert } from "@peculiar/asn1-schema";
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from "@peculiar/asn1-x509";
import { x509 } from "./x509.ts";

const OID = { CN: "2.5.4.3", O: "2.5.4.10" } as const;

/**
 * A distinguished name built from ASN.1 values, never from a DN string: agent and tenant names may
 * contain commas, quotes or '=' and must land in the certificate exactly as given. Values are
 * UTF8String (RFC 5280 §4.1.2.6).
 */
export function dn(parts: ReadonlyArray<readonly [keyof typeof OID, string]>): x509.Name {
  const name = new Name(
    parts.map(([type, value]) =>
      new RelativeDistinguishedName([new AttributeTypeAndValue({ type: OID[type], value: new AttributeValue({ utf8String: value }) })])),
  );
  return new x509.Name(AsnConvert.serialize(name));
}
