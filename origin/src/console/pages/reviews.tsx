/** @jsxImportSource hono/jsx */
import type { Hono } from "hono";
import { apiKeyActor } from "../../audit/types.ts";
import { reviewAgent, type ReviewDecision } from "../../lifecycle/review-agent.ts";
import { agentInTenant } from "../agent-data.ts";
import { may, type ConsoleEnv } from "../env.ts";
import { notFoundPage } from "./not-found.tsx";
import { allow } from "../http.ts";
import { Band, Csrf, Layout, When } from "../layout.tsx";
import { reviewQueue, type QueueItem } from "../review-data.ts";
import { decodeCursor, encodeCursor } from "../../routes/cursor.ts";
import { reviewBody } from "../../routes/v1_agents_review.ts";
import { PLAIN_MESSAGE } from "@kakunin/shared";

/** Agents shown per page of the queue. */
const PAGE = 50;

const DECISIONS: { value: ReviewDecision; label: string; hint: string }[] = [
  { value: "clear", label: "Clear (false positive)", hint: "lift the flag; the events become normal history" },
  { value: "revoke", label: "Revoke", hint: "confirmed: revoke the active certificate and suspend the agent" },
  { value: "reinstate", label: "Reinstate", hint: "false positive that was auto-revoked: lift the suspension (certify again afterwards)" },
];

function Item(props: { it: QueueItem; csrf: string; canDecide: boolean }) {
  const { it } = props;
  return (
    <section class="card" aria-labelledby={`q-${it.agentId}`} data-agent-id={it.agentId}>
      <h2 id={`q-${it.agentId}`}><a href={`/console/agents/${it.agentId}`}>{it.name}</a></h2>
      <dl class="kv">
        <dt>Why queued</dt><dd>{it.kind === "auto_revoked" ? "auto-revoked by the tenant policy, awaiting a decision" : "flagged for review (auto_revoke off)"}</dd>
        <dt>Score</dt><dd>{it.score.toFixed(2)} <Band band="high" /> · {it.alerts} alert(s) since <When at={it.openedAt} /></dd>
        <dt>Agent</dt><dd>{it.status}</dd>
        <dt>Top reasons</dt><dd><ul class="reasons">{it.reasons.map((r) => <li><span class="mono">{r.feature}</span> +{r.contribution.toFixed(2)}: {r.detail}</li>)}</ul></dd>
      </dl>
      {props.canDecide ? (
        <form method="post" action={`/console/agents/${it.agentId}/review`} class="review-form" data-confirm={`Record this decision on ${it.name}? It is audited and cannot be undone.`}>
          <Csrf token={props.csrf} />
          {/* The alerts this page showed: a decision on them is refused if more arrived since (review-stale). */}
          <input type="hidden" name="alerts" value={String(it.alerts)} />
          {/* And when the oldest of them opened: a count alone matches a queue someone decided and the agent re-opened since. */}
          <input type="hidden" name="opened_at" value={it.openedAt.toISOString()} />
          <fieldset>
            <legend>Decision on {it.name}</legend>
            {DECISIONS.map((d) => (
              <div><input type="radio" name="decision" id={`d-${d.value}-${it.agentId}`} value={d.value} required /> <label for={`d-${d.value}-${it.agentId}`}>{d.label}</label> <span class="muted small">{d.hint}</span></div>
            ))}
            <label for={`reason-${it.agentId}`}>Reason (recorded in the audit log)</label>
            <input id={`reason-${it.agentId}`} name="reason" type="text" maxlength={1024} required />
            <button type="submit">Record decision</button>
          </fieldset>
        </form>
      ) : null}
    </section>
  );
}

/** What the page may say after a decision that was not recorded, by code. */
const ERRORS: Readonly<Record<string, string>> = {
  "invalid-form": "Choose a decision and give a reason (at most 1024 characters).",
  "invalid-reason": "The reason must not contain control characters or bidirectional overrides (they reorder or hide what the audit log and reports show).",
  "nothing-to-review": "That agent has no flagged or auto-revoked risk decision awaiting review (someone may have decided already).",
  "review-stale": "New alerts arrived for that agent since this page was loaded, so nothing was recorded: read them below and decide again.",
  "agent-retired": "That agent is retired; there is nothing to decide.",
  conflict:
    "That decision does not fit the agent's status: reinstate lifts only a suspension the risk monitor made (use clear to close a flag); an agent the risk monitor suspended takes reinstate or revoke, not clear.",
  "not-recorded": "The decision was not recorded.",
};

/** "clear (active)": a decision and the agent's status after it, each one of the known words or nothing. */
function doneText(decision: string | undefined, status: string | undefined): string | undefined {
  if (decision !== "clear" && decision !== "revoke" && decision !== "reinstate") return undefined;
  return status === "active" || status === "suspended" || status === "retired" ? `${decision} (${status})` : decision;
}

/** GET /console/reviews (admin, auditor: read) and POST /console/agents/:id/review (admin only, as the API). */
export function registerReviews(app: Hono<ConsoleEnv>): void {
  app.get("/reviews", allow("reviews"), async (c) => {
    // A page of the queue: `after` is the API's cursor (a forged one starts from the oldest).
    const raw = c.req.query("after");
    const after = raw === undefined ? undefined : decodeCursor(raw);
    const { items, next, total } = await reviewQueue(c.var.services.db, c.var.caller.tenantId, PAGE, after && { openedAt: after.t, agentId: after.id });
    // Only fixed texts are shown: the query names which (a free text here would let any link put
    // words of its choosing into the console, under its banner).
    const done = doneText(c.req.query("done"), c.req.query("status"));
    const error = ERRORS[c.req.query("error") ?? ""];
    return c.html(
      <Layout title="Review queue" caller={c.var.caller} csrf={c.var.csrf} current="/console/reviews" scripts>
        {done ? <p class="ok" role="status" id="review-done">Decision recorded: {done}.</p> : null}
        {error ? <p class="error" role="alert">{error}</p> : null}
        {total === 0 ? (
          <p id="queue-empty">Nobody is waiting for review.</p>
        ) : (
          <p id="queue-count">
            {total} agent(s) waiting, oldest first{items.length < total ? `; ${items.length} shown here` : ""}.
          </p>
        )}
        <div class="grid" id="queue">{items.map((it) => <Item it={it} csrf={c.var.csrf} canDecide={may(c.var.caller, "review")} />)}</div>
        {next ? (
          <p>
            <a id="queue-next" href={`/console/reviews?${new URLSearchParams({ after: encodeCursor({ createdAt: next.openedAt, id: next.agentId }) })}`}>Next page</a>
          </p>
        ) : null}
      </Layout>,
    );
  });

  app.post("/agents/:id/review", allow("review"), async (c) => {
    const body = await c.req.parseBody();
    // The API's own body schema: the form is another door to the same decision, and a reason the
    // API refuses (a bidi override, a control character) must not reach the audit log through it.
    const shown = typeof body["alerts"] === "string" && /^[0-9]{1,7}$/.test(body["alerts"]) ? Number(body["alerts"]) : undefined;
    const form = reviewBody.safeParse({ decision: body["decision"], reason: body["reason"], alerts: shown });
    if (!form.success) {
      const unsafe = form.error.issues.some((i) => i.path[0] === "reason" && i.message === PLAIN_MESSAGE);
      return c.redirect(`/console/reviews?${new URLSearchParams({ error: unsafe ? "invalid-reason" : "invalid-form" })}`, 303);
    }
    const { decision, reason, alerts } = form.data;
    // The oldest shown alert's time (the page's own ISO rendering): absent from a page served before
    // the field (no precondition, as the API without it); anything else that is not a time is a bad form.
    const openedRaw = body["opened_at"];
    const openedAt = typeof openedRaw === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(openedRaw) ? new Date(openedRaw) : undefined;
    if (openedRaw !== undefined && (openedAt === undefined || Number.isNaN(openedAt.getTime()))) {
      return c.redirect(`/console/reviews?${new URLSearchParams({ error: "invalid-form" })}`, 303);
    }
    const s = c.var.services;
    // A malformed or foreign id names no agent: 404, as in the API.
    const agent = await agentInTenant(s.db, c.var.caller.tenantId, c.req.param("id"));
    if (!agent) return notFoundPage(c, "agent");
    // The stored id, not the path's spelling of it: the decision's audit entry joins the agent's chain.
    const out = await reviewAgent(s, c.var.caller.tenantId, agent.id, { decision, reason, alerts, openedAt }, apiKeyActor(c.var.caller));
    if (!out.ok) {
      return c.redirect(`/console/reviews?${new URLSearchParams({ error: out.error.type in ERRORS ? out.error.type : "not-recorded" })}`, 303);
    }
    // The console sits before the app's publisher kick; a decision that revokes must reach the edge now.
    s.publisher?.kick();
    return c.redirect(`/console/reviews?${new URLSearchParams({ done: decision, status: out.value.agent_status })}`, 303);
  });
}
