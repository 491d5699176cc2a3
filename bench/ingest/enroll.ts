export interface Enrolled {
  agentId: string;
  serial: string;
  token: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function originPost(originUrl: string, adminKey: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { authorization: `Bearer ${adminKey}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(originUrl + path, { method: "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200 && res.status !== 201) throw new Error(`POST ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  const json = JSON.parse(text) as { data?: Record<string, unknown> };
  if (!json.data) throw new Error(`POST ${path}: response without data`);
  return json.data;
}

function str(data: Record<string, unknown>, field: string): string {
  const v = data[field];
  if (typeof v !== "string") throw new Error(`response without data.${field}`);
  return v;
}

/**
 * Registers, certifies and mints an ingest token for `count` agents (scopes ["orders.*"]), `width`
 * at a time, as an operator would through the origin API. Certify dominates: it generates an
 * RSA-2048 key (the run starts the origin without a key pool). Bounded by `maxMs`.
 */
export async function enrollAgents(originUrl: string, adminKey: string, count: number, width: number, maxMs: number): Promise<Enrolled[]> {
  const out: Enrolled[] = [];
  const deadline = performance.now() + maxMs;
  while (out.length < count) {
    if (performance.now() > deadline) throw new Error(`only ${out.length} of ${count} agents enrolled within ${maxMs} ms`);
    const n = Math.min(width, count - out.length);
    out.push(...(await Promise.all(Array.from({ length: n }, async (_, k) => {
      const agent = await originPost(originUrl, adminKey, "/v1/agents", {
        name: `ingest-bench-${out.length + k}`,
        model: { name: "gpt-4o", version: "2024-08-06", hash: `sha256:${"cd".repeat(32)}` },
        owner: { name: "Bench Runner", email: "bench@example.test" },
        scopes: ["orders.*"],
      });
      const agentId = str(agent, "id");
      const cert = await originPost(originUrl, adminKey, `/v1/agents/${agentId}/certify`);
      const token = await originPost(originUrl, adminKey, `/v1/agents/${agentId}/ingest-tokens`, {});
      return { agentId, serial: str(cert, "serial_number"), token: str(token, "token") };
    }))));
  }
  return out;
}

/** Waits until the edge knows every certificate (the origin publishes asynchronously). */
export async function waitEdgeKnows(edgeUrl: string, serials: readonly string[], maxMs: number): Promise<void> {
  const deadline = performance.now() + maxMs;
  for (const serial of serials) {
    for (;;) {
      const res = await fetch(`${edgeUrl}/v1/verify/${serial}`);
      await res.arrayBuffer();
      if (res.status === 200) break;
      if (performance.now() > deadline) throw new Error(`certificate ${serial} unknown at the edge after ${maxMs} ms (last HTTP ${res.status})`);
      await sleep(50);
    }
  }
}
