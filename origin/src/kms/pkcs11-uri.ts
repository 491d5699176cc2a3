/**
 * RFC 7512 PKCS#11 URIs, the `ref` the pkcs11 backend hands out, e.g.
 * `pkcs11:token=kakunin;id=%3a%9f...;object=agent-42`.
 *
 * Text attributes get every byte outside RFC 3986 `unreserved` percent-encoded: always legal in a
 * pk11-pchar, and it keeps `;`, `?`, `%` and non-ASCII labels unambiguous without tracking RFC 7512's
 * per-attribute allowed sets. `id` is binary, so every byte is encoded (as RFC 7512 recommends).
 */

export interface Pkcs11KeyUri {
  token: string;
  id: Uint8Array;
  object?: string;
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

// Lowercase hex, as p11-kit and p11tool print it; parsing accepts either case.
const pct = (b: number): string => `%${b.toString(16).padStart(2, "0")}`;

function percentEncode(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    out += b < 0x80 && UNRESERVED.test(ch) ? ch : pct(b);
  }
  return out;
}

/** Decodes `%xx` escapes to raw bytes; null on a malformed escape or raw non-ASCII (not a URI). */
function percentDecode(value: string): Uint8Array | null {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (ch > 0x7e || ch < 0x21) return null;
    if (ch !== 0x25 /* % */) {
      out.push(ch);
      continue;
    }
    const hex = value.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
    out.push(parseInt(hex, 16));
    i += 2;
  }
  return Uint8Array.from(out);
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function formatPkcs11Uri(uri: Pkcs11KeyUri): string {
  const parts = [`token=${percentEncode(utf8.encode(uri.token))}`, `id=${Array.from(uri.id, pct).join("")}`];
  // A typed-in empty label would give `object=`, which some tools read as "match empty label".
  if (uri.object) parts.push(`object=${percentEncode(utf8.encode(uri.object))}`);
  return `pkcs11:${parts.join(";")}`;
}

/** Parses the path part of a PKCS#11 URI; null when it is not one or lacks `token`/`id`. */
export function parsePkcs11Uri(ref: string): Pkcs11KeyUri | null {
  if (!ref.toLowerCase().startsWith("pkcs11:")) return null;
  // Query attributes (pin-source, module-path, ...) are ignored: the manager's options decide those.
  const path = ref.slice("pkcs11:".length).split("?")[0] ?? "";
  const attrs = new Map<string, Uint8Array>();
  for (const part of path.split(";")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) return null;
    const name = part.slice(0, eq).toLowerCase();
    const value = percentDecode(part.slice(eq + 1));
    if (value === null || attrs.has(name)) return null; // RFC 7512: an attribute at most once
    attrs.set(name, value);
  }
  const token = attrs.get("token");
  const id = attrs.get("id");
  if (token === undefined || id === undefined || id.length === 0) return null;
  const object = attrs.get("object");
  try {
    return {
      token: strictUtf8.decode(token),
      id,
      ...(object !== undefined ? { object: strictUtf8.decode(object) } : {}),
    };
  } catch {
    return null; // labels are UTF-8 by the PKCS#11 spec
  }
}
