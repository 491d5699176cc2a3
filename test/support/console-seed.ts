import { agentBody } from "../../origin/test/harness.ts";
import { pollUntil, type RunningSystem } from "./system.ts";

/** Talks to a running system as its admin (or any key). */
export function apiClient(sys: () => RunningSystem, key: string) {
  return async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${sys().origin.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, body: (await r.json()) as T };
  };
}

type Api = ReturnType<typeof apiClient>;

export interface Outcome {
  data: { accepted: number; results: { event_id: string; score: number; band: string }[] };
}

export async function postEvents(sys: RunningSystem, token: string, events: unknown[]): Promise<{ status: number; body: Outcome }> {
  const r = await fetch(`${sys.edge.url}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ events }),
  });
  return { status: r.status, body: (await r.json()) as Outcome };
}

/** Creates, certifies and enrols an agent; waits until the edge knows its certificate. */
export async function enrolledAgent(sys: RunningSystem, api: Api, overrides: Record<string, unknown>) {
  const agent = (await api<{ data: { id: string } }>("POST", "/v1/agents", agentBody(overrides))).body.data.id;
  const cert = (await api<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
  const token = (await api<{ data: { token: string } }>("POST", `/v1/agents/${agent}/ingest-tokens`, {})).body.data.token;
  await pollUntil(async () => ((await fetch(`${sys.edge.url}/v1/verify/${cert.serial_number}`)).status === 200 ? true : undefined), 15_000);
  return { agent, cert, token };
}

/** Waits until the origin has stored `n` events of the agent (the edge forwards them asynchronously). */
export async function storedEvents(api: Api, agent: string, n: number): Promise<void> {
  await pollUntil(
    async () => {
      let count = 0;
      let cursor: string | null = null;
      do {
        const page: { body: { data: unknown[]; next_cursor: string | null } } = await api(
          "GET",
          `/v1/agents/${agent}/events?limit=200${cursor ? `&cursor=${cursor}` : ""}`,
        );
        count += page.body.data.length;
        cursor = page.body.next_cursor;
      } while (cursor);
      return count >= n ? true : undefined;
    },
    30_000,
    200,
  );
}
