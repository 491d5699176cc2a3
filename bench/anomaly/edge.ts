import type { Reason } from "@kakunin/shared";
import type { AgentRun, ScoredEvent } from "./scored.ts";
import type { SimAgent } from "./types.ts";

export interface EdgeTarget {
  edge: string;
  origin: string;
  adminKey: string;
}

const BATCH = 100;

interface IngestResult {
  event_id: string;
  score: number;
  band: string;
  reasons: Reason[];
}

async function call(method: string, url: string, bearer: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return readResponse(res);
}

/** A response's status, text and JSON body (undefined when it is not JSON). */
export async function readResponse(res: Response): Promise<{ status: number; json: unknown; text: string; headers: Headers }> {
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

function field(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const p of path) cur = typeof cur === "object" && cur !== null && p in cur ? (cur as Record<string, unknown>)[p] : undefined;
  return cur;
}

function str(v: unknown, what: string): string {
  if (typeof v !== "string") throw new Error(`${what}: missing in response`);
  return v;
}

async function expect(status: number, p: Promise<{ status: number; json: unknown; text: string }>, what: string): Promise<unknown> {
  const r = await p;
  if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

/**
 * Replays one agent through the running system: register it at the origin with its scopes,
 * certify it, mint an ingest token, post its events to the edge in time order in batches of ≤ 100,
 * and read the certificate's final status. Events the edge refuses (typically once the certificate
 * was auto-revoked) stay unscored.
 */
export async function replayAgent(t: EdgeTarget, suite: string, agent: SimAgent, log: (s: string) => void): Promise<AgentRun> {
  const created = await expect(
    201,
    call("POST", `${t.origin}/v1/agents`, t.adminKey, {
      name: `anomaly-${agent.id}`.slice(0, 64),
      model: { name: "bench-sim", version: suite, hash: `sha256:${"0".repeat(64)}` },
      owner: { name: "Kakunin anomaly bench", email: "bench@example.test" },
      scopes: agent.scopes,
    }),
    "POST /v1/agents",
  );
  const agentId = str(field(created, "data", "id"), "agent id");
  const cert = await expect(201, call("POST", `${t.origin}/v1/agents/${agentId}/certify`, t.adminKey), "certify");
  const certId = str(field(cert, "data", "id"), "certificate id");
  const tok = await expect(201, call("POST", `${t.origin}/v1/agents/${agentId}/ingest-tokens`, t.adminKey, { ttl_seconds: 86_400 }), "ingest token");
  const token = str(field(tok, "data", "token"), "token");

  const byId = new Map<string, IngestResult>();
  let refused = 0;
  let refusedAt: number | undefined;
  for (let i = 0; i < agent.events.length; i += BATCH) {
    const batch = agent.events.slice(i, i + BATCH).map((le) => le.event);
    let r = await call("POST", `${t.edge}/v1/events`, token, { events: batch });
    // 503 = the edge has not received the new certificate yet (propagation): retry, bounded.
    for (let tries = 0; r.status === 503 && tries < 40; tries++) {
      await new Promise((res) => setTimeout(res, 250));
      r = await call("POST", `${t.edge}/v1/events`, token, { events: batch });
    }
    if (r.status !== 401 && r.status !== 403 && r.status !== 202) throw new Error(`POST /v1/events: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    if (r.status !== 202) {
      // 401/403 after revocation is an outcome, not a failure: stop feeding this agent.
      refused = agent.events.length - i;
      refusedAt = agent.events[i]!.ts;
      log(`  ${agent.id}: edge answered ${r.status} at event ${i}; ${refused} events left unscored (${r.text.slice(0, 160)})`);
      break;
    }
    const results = field(r.json, "data", "results");
    if (!Array.isArray(results)) throw new Error(`POST /v1/events: 202 without data.results`);
    for (const x of results as IngestResult[]) byId.set(x.event_id, x);
  }
  // Replay compresses days into seconds; the auto-revocation round trip (alert → origin → edge)
  // takes a moment, so when an event went high, give the decision up to 20 s to land.
  const sawHigh = [...byId.values()].some((x) => typeof x.score === "number" && x.score >= 0.85);
  let status = field(await expect(200, call("GET", `${t.origin}/v1/certificates/${certId}`, t.adminKey), "GET certificate"), "data", "status");
  for (let i = 0; sawHigh && status === "active" && i < 40; i++) {
    await new Promise((res) => setTimeout(res, 500));
    status = field(await expect(200, call("GET", `${t.origin}/v1/certificates/${certId}`, t.adminKey), "GET certificate"), "data", "status");
  }
  const scored = agent.events.map((le): ScoredEvent | undefined => {
    const x = byId.get(le.event.event_id);
    return x && typeof x.score === "number" ? { le, score: x.score, reasons: Array.isArray(x.reasons) ? x.reasons : [] } : undefined;
  });
  return { agent, scored, refusedAt, certStatus: typeof status === "string" ? status : "unknown" };
}

/** All agents, a few at a time (each agent's own events stay strictly sequential and in order). */
export async function replaySuite(t: EdgeTarget, suite: string, agents: SimAgent[], concurrency = 4): Promise<AgentRun[]> {
  const out = new Array<AgentRun>(agents.length);
  let next = 0;
  const log = (s: string) => console.log(s);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < agents.length) {
        const i = next++;
        out[i] = await replayAgent(t, suite, agents[i]!, log);
        log(`  replayed ${agents[i]!.id} (${agents[i]!.events.length} events) → certificate ${out[i]!.certStatus}`);
      }
    }),
  );
  return out;
}
