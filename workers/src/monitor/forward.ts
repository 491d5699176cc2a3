import { signInternal } from "@kakunin/shared";

/** Signed POST to the origin; resolves to whether the origin acknowledged (2xx). */
export async function postToOrigin(env: Env, path: string, payload: unknown): Promise<{ ok: boolean; status: number; body: string }> {
  const secret = env.KAKUNIN_EDGE_SECRET;
  if (!secret) return { ok: false, status: 0, body: "KAKUNIN_EDGE_SECRET not configured" };
  const body = JSON.stringify(payload);
  try {
    const headers = await signInternal(secret, "POST", path, body);
    const res = await fetch(new URL(path, env.ORIGIN_URL).toString(), {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    return { ok: res.ok, status: res.status, body: await res.text() };
  } catch (e) {
    return { ok: false, status: 0, body: e instanceof Error ? e.message : String(e) };
  }
}
