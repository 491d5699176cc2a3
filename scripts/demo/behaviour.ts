/** Steps 5–7: the agent behaves, then misbehaves, and the edge stops vouching for it. */
import { admin, verifyAtEdge, type Agent, type Band, type Certificate, type Ctx, type Reason } from "./context.ts";
import { call, type Answer } from "./http.ts";
import { band, c } from "./output.ts";
import { check, expectStatus, pollUntil } from "./runner.ts";
import { attackBurst, normalTrading, type DemoEvent } from "./traffic.ts";

interface Scored {
  event_id: string;
  score: number;
  band: Band;
  reasons: Reason[];
}

interface Outcome {
  data: { accepted: number; duplicates: number; results: Scored[] };
}

const NORMAL = 120;
const BURST = 30;

/** POST /v1/events at the edge with the agent's ingest token. */
async function post(ctx: Ctx, token: string, events: DemoEvent[]): Promise<{ answer: Answer<Outcome>; outcome: Outcome["data"] }> {
  const answer = await call<Outcome>("POST", `${ctx.edge.url}/v1/events`, { bearer: token, body: { events } });
  const outcome = expectStatus(answer, 202, "POST /v1/events").data;
  check(outcome.accepted === events.length, `POST /v1/events: ${events.length} sent, ${outcome.accepted} accepted (${outcome.duplicates} duplicates)`);
  return { answer, outcome };
}

/** "398 low, 2 medium" */
function bands(results: Scored[]): string {
  const n = { low: 0, medium: 0, high: 0 };
  for (const r of results) n[r.band] += 1;
  return (["low", "medium", "high"] as const).filter((b) => n[b] > 0).map((b) => `${n[b]} ${band(b)}`).join(", ");
}

function highest(results: Scored[]): Scored | undefined {
  return results.reduce<Scored | undefined>((top, r) => (!top || r.score > top.score ? r : top), undefined);
}

export interface Behaved {
  token: string;
  accepted: number;
}

/**
 * Normal trading replayed over the time the certificate has been valid (its notBefore is a minute
 * back): the evidence verifier rightly rejects an event claiming a time its certificate did not cover.
 */
export function behaveNormally(ctx: Ctx, agent: Agent, notBefore: number): Promise<Behaved> {
  return ctx.run.step("Post normal behaviour events", async () => {
    const t = await admin<{ data: { token: string } }>(ctx, "POST", `/v1/agents/${agent.id}/ingest-tokens`, {});
    const token = expectStatus(t, 201, `POST /v1/agents/${agent.id}/ingest-tokens`).data.token;
    const start = notBefore + 1000;
    const end = Date.now() - 6000;
    const events = normalTrading(NORMAL, start, end);
    const results: Scored[] = [];
    for (let i = 0; i < events.length; i += 60) results.push(...(await post(ctx, token, events.slice(i, i + 60))).outcome.results);
    const top = highest(results);
    check(top !== undefined && top.band !== "high", `normal traffic scored high (${top?.event_id} ${top?.score})`);
    const r = await call<{ data: { score: number; band: Band; events_scored: number } }>("GET", `${ctx.edge.url}/v1/agents/${agent.id}/risk`, { bearer: token });
    const risk = expectStatus(r, 200, `GET /v1/agents/${agent.id}/risk`).data;
    check(risk.band === "low", `after normal traffic the agent's risk should be low, is ${risk.score} ${risk.band}`);
    return {
      value: { token, accepted: NORMAL },
      facts: [
        `${NORMAL} quotes and orders of ~100 EUR over the last ${Math.round((end - start) / 1000)} s → ${NORMAL} accepted, bands: ${bands(results)}, highest ${top.score.toFixed(2)}`,
        `agent risk now ${risk.score.toFixed(2)} ${band(risk.band)} (GET /v1/agents/:id/risk, ${risk.events_scored} events scored)`,
      ],
    };
  });
}

export interface Burst {
  accepted: number;
  /** When the POST whose events scored high had fully answered (performance.now()). */
  returnedAt: number;
}

export function attack(ctx: Ctx, token: string): Promise<Burst> {
  return ctx.run.step("Post an anomalous burst", async () => {
    const events = attackBurst(BURST, Date.now() - 4000);
    const { answer, outcome } = await post(ctx, token, events);
    const top = highest(outcome.results);
    check(top !== undefined && top.band === "high", `the burst should score high, highest was ${top?.score} ${top?.band}`);
    const reasons = [...top.reasons].sort((a, b) => b.contribution - a.contribution).slice(0, 3);
    return {
      value: { accepted: outcome.accepted, returnedAt: answer.at.mono },
      facts: [
        `${BURST} transfers of 250,000 EUR to new accounts within 3 s (payments.transfer, not in scope) → ${outcome.accepted} accepted, bands: ${bands(outcome.results)}`,
        `highest: ${top.event_id} scored ${c.red(top.score.toFixed(2))} ${band(top.band)}; top reasons:`,
        ...reasons.map((x) => `  ${x.feature} +${x.contribution.toFixed(2)}: ${x.detail}`),
      ],
    };
  });
}

export function revocation(ctx: Ctx, agent: Agent, cert: Certificate, token: string, burst: Burst): Promise<void> {
  return ctx.run.step("Auto-revocation, seen at the edge", async () => {
    // The edge answers the POST first; the origin's policy decision and the publish back follow.
    const seen = await pollUntil(async () => {
      const v = await verifyAtEdge(ctx, cert.serial_number);
      return v.status === 200 && v.body.data.status === "revoked" ? v : undefined;
    }, { timeoutMs: 15_000, everyMs: 20, what: `verify answering revoked for ${cert.serial_number}` });
    const ms = Math.round(seen.at.mono - burst.returnedAt);
    const v = seen.body.data;
    check(v.revocation_reason === "risk_threshold", `revocation reason should be risk_threshold, is ${v.revocation_reason}`);
    check(!v.valid, "a revoked certificate must not verify as valid");
    const a = expectStatus(await admin<{ data: Agent }>(ctx, "GET", `/v1/agents/${agent.id}`), 200, `GET /v1/agents/${agent.id}`).data;
    check(a.status === "suspended", `the agent should be suspended, is ${a.status}`);
    const refused = await call("POST", `${ctx.edge.url}/v1/events`, { bearer: token, body: normalTrading(1, Date.now() - 1000, Date.now())[0] });
    check(refused.status === 403, `the revoked agent's token should be refused (403), got ${refused.status}`);
    return {
      value: undefined,
      facts: [
        `GET /v1/verify/${cert.serial_number.slice(0, 8)}… → ${c.red(v.status)} (${v.revocation_reason}), valid ${v.valid}, risk ${v.risk.score.toFixed(2)} ${band(v.risk.band)}`,
        `propagation: ${c.bold(`${ms} ms`)} from the high-scoring POST /v1/events returning to the first verify answer saying revoked (polled every 20 ms)`,
        `origin: agent ${a.status}, revoked at ${v.revoked_at}; the agent's ingest token is now refused (403)`,
      ],
    };
  });
}
