/**
 * The few HTTP calls the demo makes, as plain fetch: what a gateway, an agent or an admin would
 * send. Every answer comes back with its status, so a step can name what it expected and got.
 */
export interface Answer<T> {
  status: number;
  body: T;
  /** Wall-clock and monotonic time the whole body had arrived, for propagation measurements. */
  at: { wall: number; mono: number };
}

/** The shape every problem+json answer has; steps print `detail` when a call fails. */
export interface Problem {
  type?: string;
  title?: string;
  detail?: string;
}

const TIMEOUT_MS = 15_000;

export async function call<T>(method: string, url: string, opts: { bearer?: string; body?: unknown } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(url, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await r.text();
  const at = { wall: Date.now(), mono: performance.now() };
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* kept as text: the failure message shows it */
  }
  return { status: r.status, body: body as T, at };
}

/** "409 urn:kakunin:problem:conflict: Agent … already has an active certificate." */
export function describeAnswer(a: Answer<unknown>): string {
  const p = a.body as Problem | string | null;
  if (p && typeof p === "object") return `${a.status} ${[p.type, p.detail ?? p.title].filter(Boolean).join(": ")}`;
  return `${a.status} ${String(p).slice(0, 200)}`;
}
