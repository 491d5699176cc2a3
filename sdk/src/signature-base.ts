/**
 * RFC 9421 signature bases. Kakunin agents cover `("@method" "@authority" "@path" "date"
 * "content-digest" "kakunin-agent-serial")`, plus `"@query"` when the target has a query (otherwise
 * the query could be changed without breaking the signature). `@authority` binds the signature to
 * the gateway it was made for: a request signed for gateway X is refused at gateway Y.
 */
export const REQUIRED_COMPONENTS = ["@method", "@authority", "@path", "date", "content-digest", "kakunin-agent-serial"] as const;

/**
 * Longest value of a covered field, and of Signature-Input / Signature, in characters. Checked
 * before any other work, so a hostile header costs one length comparison (Node's own default
 * limit for all headers together is 16 KiB).
 */
export const MAX_FIELD_CHARS = 8192;

/** The request header naming the agent's certificate (lower case, as fetch Headers report names). */
export const AGENT_SERIAL_HEADER = "kakunin-agent-serial";

export const ALGORITHM = "rsa-v1_5-sha256";

/** The parts of an HTTP request a signature can cover, the same shape on the agent and the gateway. */
export interface MessageView {
  method: string;
  /** The target URI as the server sees it; only path, query and authority are read. */
  url: URL;
  /** A field's value, multiple instances already combined with ", "; `undefined` when absent. */
  header(name: string): string | undefined;
}

export type ComponentValue = { ok: true; value: string } | { ok: false; error: string };

/** One covered component's canonical value (RFC 9421 §2.1 for fields, §2.2 for derived components). */
export function componentValue(name: string, msg: MessageView): ComponentValue {
  switch (name) {
    case "@method":
      return { ok: true, value: msg.method };
    case "@path":
      return { ok: true, value: msg.url.pathname || "/" };
    case "@query":
      return { ok: true, value: msg.url.search || "?" };
    case "@authority":
      return { ok: true, value: msg.url.host.toLowerCase() };
    default: {
      if (!/^[a-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) return { ok: false, error: `unsupported component "${name}"` };
      const v = msg.header(name);
      if (v === undefined) return { ok: false, error: `covered field "${name}" is missing` };
      if (v.length > MAX_FIELD_CHARS) return { ok: false, error: `covered field "${name}" is longer than ${MAX_FIELD_CHARS} characters` };
      return { ok: true, value: normaliseFieldValue(v) };
    }
  }
}

/**
 * RFC 9421 §2.1: leading and trailing whitespace stripped, each obs-fold line break (with the
 * whitespace around it) one space. One pass over the value: a regex like `\s*\r?\n\s*` retries
 * from every whitespace position and is quadratic on a long run of spaces.
 */
export function normaliseFieldValue(v: string): string {
  if (!v.includes("\n")) return v.trim();
  return v.split("\n").map((line) => line.trim()).filter((line) => line !== "").join(" ");
}

/**
 * The signature base (RFC 9421 §2.5): one `"<component>": <value>` line per covered component, in
 * order, then `"@signature-params": <serialized params>`, joined by LF with no trailing newline.
 */
export function signatureBase(components: readonly string[], serializedParams: string, msg: MessageView): ComponentValue {
  const lines: string[] = [];
  for (const name of components) {
    const v = componentValue(name, msg);
    if (!v.ok) return v;
    if (/[\r\n]/.test(v.value)) return { ok: false, error: `component "${name}" contains a line break` };
    lines.push(`"${name}": ${v.value}`);
  }
  lines.push(`"@signature-params": ${serializedParams}`);
  return { ok: true, value: lines.join("\n") };
}

/** The view of a fetch Request, used by the agent (signing) and by fetch-based gateways (verifying). */
export function fetchRequestView(req: Request, url: URL = new URL(req.url)): MessageView {
  return { method: req.method, url, header: (name) => req.headers.get(name) ?? undefined };
}
