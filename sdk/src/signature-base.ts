/**
 * RFC 9421 signature bases. Kakunin agents cover `("@method" "@path" "date" "content-digest"
 * "kakunin-agent-serial")`, plus `"@query"` when the target has a query (otherwise the query could be
 * changed without breaking the signature).
 */
export const REQUIRED_COMPONENTS = ["@method", "@path", "date", "content-digest", "kakunin-agent-serial"] as const;

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
      // §2.1: strip leading and trailing whitespace; obs-fold line breaks become single spaces.
      return { ok: true, value: v.replace(/\s*\r?\n\s*/g, " ").trim() };
    }
  }
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
