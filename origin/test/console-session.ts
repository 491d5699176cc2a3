import type { TestOrigin } from "./harness.ts";

/**
 * Signs in to the console through its form as a browser would (the sign-in page's double-submit
 * token, then the key): the answer's status and the session cookie's value (null when refused).
 */
export async function consoleSignIn(o: TestOrigin, key: string): Promise<{ status: number; cookie: string | null }> {
  const form = await o.request("GET", "/console", { key: null });
  const pre = /kakunin_signin=([\w-]+)/.exec(form.headers.get("set-cookie") ?? "")![1]!;
  const res = await o.request("POST", "/console/sign-in", {
    key: null,
    rawBody: new URLSearchParams({ csrf: pre, api_key: key }).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: `kakunin_signin=${pre}` },
  });
  return { status: res.status, cookie: /kakunin_session=([\w-]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1] ?? null };
}
