import { createRoute } from "@hono/zod-openapi";
import {
  checkWireVersion, LEGACY_EPOCH, type OriginEpoch, PUBLISH_ACCEPTED_WIRE_VERSIONS, recordKey, internalAuthMessage, MAX_SKEW_S, PUBLISH_MAX_BYTES, PUBLISH_PATH, publishBatchSchema, verifyInternal, type PublishBatch,
} from "@kakunin/shared";
import { dataResponse, problemResponses, serve, SIGNED_INTERNAL, type EdgeApp } from "../http/openapi.ts";
import { edgeProblem } from "../http/problems.ts";
import { coordinator } from "../ledger/client.ts";
import { wouldApply } from "../ledger/would-apply.ts";
import { publishAckSchema } from "../openapi/schemas.ts";
import { forgetPrepared } from "../ocsp/prepared.ts";
import { forgetPki } from "../http/pki-cache.ts";
import { statusCache } from "../verify/status-cache.ts";
import { statusAt } from "@kakunin/verify/rules";

export { PUBLISH_PATH };
export const MAX_BYTES = PUBLISH_MAX_BYTES;

export const route = createRoute({
  method: "post",
  path: PUBLISH_PATH,
  summary: "The origin publishes certificate, agent and CRL status records (applied in version order)",
  tags: ["internal"],
  security: SIGNED_INTERNAL,
  request: { body: { required: true, description: "≤ 8 MiB", content: { "application/json": { schema: publishBatchSchema.openapi("PublishBatch") } } } },
  responses: {
    200: dataResponse(publishAckSchema, "Applied; `stale` counts records older than what the edge holds"),
    ...problemResponses({
      400: "Body is not valid JSON",
      401: "Unsigned, badly signed, stale or replayed call",
      413: "Batch over 8 MiB",
      422: "A record of the wrong shape; nothing was applied",
      426: "A `wire_version` this edge does not speak (rolling deploy): the origin holds the batch and retries",
      500: "Misconfigured edge (no KAKUNIN_EDGE_SECRET)",
      503: "An agent's monitor did not answer (monitor-unavailable, naming them in `agent_ids`): everything but those agents' feedback and new active certificates was applied; send the batch again",
    }),
  },
});

/** Agents whose monitors are called at once while a batch's feedback and renewals are handed to them. */
const MONITOR_CONCURRENCY = 32;

/**
 * How long one publish waits for agents' monitors (feedback and adoption together). The batch's
 * other records, every tenant's revocations among them, are applied after these calls, and the
 * origin waits at most 5 s (then sends the batch again, which met the same busy monitor): a
 * monitor that has not answered by then is treated as failed (its agent named for the retry,
 * its grants held). Its call goes on and is idempotent: the retry finds it done.
 */
export const MONITOR_BUDGET_MS = 2_000;

class MonitorTooSlow extends Error {}

/** `call`, or a MonitorTooSlow rejection once `deadline` (epoch ms) has passed. */
async function withinDeadline(call: Promise<unknown>, deadline: number): Promise<unknown> {
  call.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MonitorTooSlow(`no answer within ${MONITOR_BUDGET_MS} ms of the publish`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([call, late]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * A renewal (a certificate record naming its successor) tells the agent's monitor, which publishes
 * the agent's risk under both serials: risk is the agent's, not one certificate's. So does an agent
 * record naming its current serial, which is how a certificate issued without a renewal (certify
 * again after a revocation or a new model hash) reaches the edge: otherwise a risky agent's new
 * serial would read as low to ?max_band= until the agent posts again. Before the records are
 * applied, so a new serial's status is never readable at this edge without its risk. The calls
 * to make (runMonitorCalls): an agent whose monitor fails is added to `failed` (heldRecords), for
 * the origin's retry (idempotent adoption; a monitor that never scored an event keeps no state).
 */
async function renewalCalls(env: Env, records: readonly PublishBatch["records"][number][], epoch: OriginEpoch): Promise<MonitorTask[]> {
  const now = Date.now();
  const candidates = records.filter(
    // Only a predecessor still inside its overlap: the origin re-publishes every unexpired
    // certificate (each OCSP refresh, every two days), superseded ones included, each naming its
    // successor. Adopting those pushed the agent's current serials out of the last RISK_SERIALS
    // (the monitor keeps the most recently adopted), so a review's clear or a later risk change
    // no longer reached the certificate gateways verify.
    (r) => (r.kind === "cert" && r.superseded_by && statusAt(r, now) === "active") || (r.kind === "agent" && r.current_serial),
  );
  // Only records the ledger will apply: adoption runs before it, and a stale record's serial (an
  // older agent record arriving late, from a second origin or an old batch retried) was adopted
  // although the ledger then refused it, publishing risk under a serial that is not the agent's
  // and pushing one the gateways verify out of the last RISK_SERIALS.
  const applicable = await wouldApply(env, candidates, epoch);
  const renewals = candidates.filter((r) => applicable.has(r)).flatMap((r) => {
    if (r.kind === "cert" && r.superseded_by) return [{ agent: r.agent_id, serials: [r.serial_number, r.superseded_by] }];
    if (r.kind === "agent" && r.current_serial) return [{ agent: r.agent_id, serials: [r.current_serial] }];
    return [];
  });
  return renewals.map((r) => ({ agent: r.agent, call: () => env.AGENT_MONITOR.getByName(r.agent).adoptSerials(r.serials) }));
}

/** One call on an agent's monitor (feedback or adoption). */
interface MonitorTask {
  agent: string;
  call: () => Promise<unknown>;
}

/**
 * Runs the batch's monitor calls: each agent's in the batch's order (its feedback before its
 * adoption), different agents' side by side (MONITOR_CONCURRENCY), each call bounded by the
 * publish's one `deadline`. The budget was spent one call after another (all feedback, then the
 * renewals in chunks): one slow monitor used it up, and every call after it failed unmade, so
 * every other agent's clear and new certificate in the batch, of any tenant, was held and named
 * for the retry, and each retry met the slow monitor first again (publish-monitor-slow.test.ts).
 */
async function runMonitorCalls(tasks: readonly MonitorTask[], failed: Set<string>, deadline: number): Promise<void> {
  const byAgent = new Map<string, MonitorTask[]>();
  for (const t of tasks) byAgent.set(t.agent, [...(byAgent.get(t.agent) ?? []), t]);
  const queue = [...byAgent.values()];
  const lane = async (): Promise<void> => {
    for (let chain = queue.shift(); chain; chain = queue.shift()) {
      for (const t of chain) await monitorCall(failed, t.agent, t.call, deadline);
    }
  };
  await Promise.all(Array.from({ length: Math.min(MONITOR_CONCURRENCY, queue.length) }, lane));
}

/**
 * Runs one call on an agent's monitor; a failure, or no answer by `deadline` (MONITOR_BUDGET_MS),
 * marks the agent instead of failing or holding up the batch.
 */
async function monitorCall(failed: Set<string>, agentId: string, call: () => Promise<unknown>, deadline: number): Promise<void> {
  try {
    if (Date.now() >= deadline) throw new MonitorTooSlow(`the publish's ${MONITOR_BUDGET_MS} ms for monitors had passed`);
    await withinDeadline(call(), deadline);
  } catch (e) {
    failed.add(agentId);
    console.error(JSON.stringify({ level: "error", msg: "agent monitor failed during publish; its grants are held", component: "internal-publish", agent_id: agentId, error: e instanceof Error ? e.message : String(e) }));
  }
}

/**
 * The records held back because their agent's monitor failed: the certificates that grant (active,
 * of an active agent), which must not be readable without the agent's risk. Everything else is
 * applied, revocations first of all: one agent's broken monitor (its storage full or unreadable)
 * failed the whole batch with 500, and the origin, retrying it, held every other agent's
 * revocation behind it for as long as that monitor stayed broken.
 */
function heldRecords(records: readonly PublishBatch["records"][number][], failed: ReadonlySet<string>): Set<PublishBatch["records"][number]> {
  return new Set(records.filter((r) => r.kind === "cert" && failed.has(r.agent_id) && r.status === "active" && r.agent_status === "active"));
}

/**
 * The origin's signed delivery of status records. Unsigned, badly signed, stale or replayed calls
 * get 401 and change nothing; a valid batch is applied in version order by the ledger.
 */
export function register(app: EdgeApp): void {
  serve(app, route, async (c) => {
    const secret = c.env.KAKUNIN_EDGE_SECRET;
    if (!secret) return edgeProblem(c, "internal-error", "KAKUNIN_EDGE_SECRET is not configured at the edge.");
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.byteLength > MAX_BYTES) return edgeProblem(c, "payload-too-large", `Batch exceeds ${MAX_BYTES} bytes.`);
    const auth = await verifyInternal(secret, "POST", PUBLISH_PATH, body, c.req.raw.headers);
    if (!auth.ok) {
      const message = internalAuthMessage(auth);
      if (auth.error === "stale") console.warn(`[edge] ${PUBLISH_PATH}: ${message}`);
      return edgeProblem(c, "unauthorized", message);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body));
    } catch {
      return edgeProblem(c, "malformed-json", "The batch is not valid JSON.");
    }
    const version = checkWireVersion(parsed, PUBLISH_ACCEPTED_WIRE_VERSIONS);
    if (!version.ok) {
      return edgeProblem(c, "unsupported-wire-version", `wire_version ${JSON.stringify(version.version)} is not one of ${PUBLISH_ACCEPTED_WIRE_VERSIONS.join(", ")}; hold and retry after the upgrade.`);
    }
    const batch = publishBatchSchema.safeParse(parsed);
    if (!batch.success) {
      const errors = batch.error.issues.slice(0, 50).map((i) => ({ path: i.path.join("."), message: i.message }));
      return edgeProblem(c, "validation-failed", `${batch.error.issues.length} invalid field(s) in the batch`, { errors });
    }
    const records = (batch.data as PublishBatch).records;
    // Agents whose monitor failed below: their feedback and grants are retried by the origin (503).
    const failed = new Set<string>();
    const deadline = Date.now() + MONITOR_BUDGET_MS;
    // Review feedback goes to the agent's monitor (idempotent per review), not to KV.
    const feedback = records.filter((r) => r.kind === "feedback");
    const feedbackCalls = feedback.map((f): MonitorTask => {
      // An unreadable time accepts nothing after the epoch: the unreviewed risk stays (fail closed).
      const until = f.accepted_until === undefined ? undefined : Date.parse(f.accepted_until) || 0;
      return { agent: f.agent_id, call: () => c.env.AGENT_MONITOR.getByName(f.agent_id).acceptAsNormal(f.review_id, f.event_ids, until, f.accepted_features) };
    });
    await runMonitorCalls([...feedbackCalls, ...(await renewalCalls(c.env, records, batch.data.epoch ?? LEGACY_EPOCH))], failed, deadline);
    const held = heldRecords(records, failed);
    const result = await coordinator(c.env).apply(
      auth.nonce,
      (auth.timestamp + MAX_SKEW_S + 60) * 1000,
      records.filter((r) => r.kind !== "feedback" && !held.has(r)),
      batch.data.epoch,
    );
    if ("replayed" in result) return edgeProblem(c, "unauthorized", "Internal call refused: replayed nonce.");
    // The isolate that took the delivery forgets what it cached of those certificates (verify and
    // OCSP alike), so what it serves after the origin's acknowledgement (what revoke and certify
    // wait for) is the new record, not its cached copy for up to the cache TTL. Other isolates
    // keep the TTL bound.
    for (const r of records) {
      // A CRL record also carries the CA chain and certificates (v1_ca.ts): all served from one entry.
      if (r.kind === "crl") forgetPki(recordKey(r));
      if (r.kind !== "cert" || held.has(r)) continue;
      statusCache.delete(r.serial_number);
      forgetPrepared(r.serial_number);
    }
    // Feedback counts as applied once its monitor took it.
    const ack = { ...result, applied: result.applied + feedback.filter((f) => !failed.has(f.agent_id)).length };
    // Not delivered as a whole: the origin holds the batch and sends it again (what was applied
    // comes back stale, a no-op; feedback and adoption are idempotent).
    if (failed.size > 0) {
      // `agent_ids` names them, so the origin marks the rest delivered: held back as a whole, the
      // batch stayed at the head of the outbox and later rows were never sent (publisher.ts).
      return edgeProblem(c, "monitor-unavailable", `The monitor of ${failed.size} agent(s) did not answer; the rest of the batch was applied. Send it again.`, {
        headers: { "retry-after": "1" },
        agent_ids: [...failed],
        // What the ledger did with the rest, as a 200 would say: a batch refused as stale (the
        // edge holds a newer epoch: a restored database) must not be taken for applied.
        ack,
      });
    }
    return c.json({ data: ack });
  });
}
