/** @jsxImportSource hono/jsx */
import type { Hono } from "hono";
import { count, desc, eq } from "drizzle-orm";
import { agentCredentials, agents, apiKeys } from "../../db/schema.ts";
import { may, type ConsoleEnv } from "../env.ts";
import { allow } from "../http.ts";
import { Layout, When } from "../layout.tsx";

/** Rows shown per table, newest first. */
const SHOWN = 200;

/** Says so when a table shows only the newest rows of more. */
function More(props: { shown: number; total: number; id: string; api: string }) {
  if (props.total <= props.shown) return null;
  return (
    <p class="notice" id={props.id}>
      The {props.shown} newest of {props.total} are shown; <span class="mono">{props.api}</span> lists them all.
    </p>
  );
}

/**
 * GET /console/keys: the tenant's API keys (admin only, as GET /v1/api-keys) and agent credentials
 * (every role, as GET /v1/agents/:id/credentials). Prefixes only; secrets are never stored.
 * Read-only: keys are created and revoked with the API or CLI, where the new secret can be shown once.
 */
export function registerKeys(app: Hono<ConsoleEnv>): void {
  app.get("/keys", allow("credentials"), async (c) => {
    const { db } = c.var.services;
    const tenantId = c.var.caller.tenantId;
    const keys = may(c.var.caller, "keys") ? await db.select().from(apiKeys).where(eq(apiKeys.tenantId, tenantId)).orderBy(desc(apiKeys.createdAt)).limit(SHOWN) : null;
    const creds = await db.select({ c: agentCredentials, agent: agents.name }).from(agentCredentials).innerJoin(agents, eq(agentCredentials.agentId, agents.id))
      .where(eq(agentCredentials.tenantId, tenantId)).orderBy(desc(agentCredentials.createdAt)).limit(SHOWN);
    // The tables show the newest SHOWN; a reviewer scanning for live keys must know when there are more.
    const total = async (t: typeof apiKeys | typeof agentCredentials) => (await db.select({ n: count() }).from(t).where(eq(t.tenantId, tenantId)))[0]?.n ?? 0;
    const keysTotal = keys && keys.length === SHOWN ? await total(apiKeys) : keys?.length ?? 0;
    const credsTotal = creds.length === SHOWN ? await total(agentCredentials) : creds.length;
    return c.html(
      <Layout title="API keys & credentials" caller={c.var.caller} csrf={c.var.csrf} current="/console/keys">
        {keys ? (
          <>
            <h2 id="h-keys">API keys</h2>
            <table class="data" aria-labelledby="h-keys" id="api-keys">
              <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col">Revoked</th></tr></thead>
              <tbody>{keys.map((k) => <tr><td>{k.name}{k.id === c.var.caller.keyId ? <span class="muted small"> (this session)</span> : null}</td><td>{k.role}</td><td class="mono">{k.prefix}…</td><td><When at={k.createdAt} /></td><td><When at={k.revokedAt} /></td></tr>)}</tbody>
            </table>
            <More shown={keys.length} total={keysTotal} id="api-keys-more" api="GET /v1/api-keys" />
          </>
        ) : <p class="notice">Role '{c.var.caller.role}' cannot list API keys (as in the API).</p>}
        <h2 id="h-creds">Agent credentials</h2>
        <table class="data" aria-labelledby="h-creds" id="agent-credentials">
          <thead><tr><th scope="col">Agent</th><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col">Revoked</th></tr></thead>
          <tbody>
            {creds.length === 0 ? <tr><td colspan={5} class="muted">None.</td></tr> : null}
            {creds.map((r) => <tr><td><a href={`/console/agents/${r.c.agentId}`}>{r.agent}</a></td><td>{r.c.name}</td><td class="mono">{r.c.prefix}…</td><td><When at={r.c.createdAt} /></td><td><When at={r.c.revokedAt} /></td></tr>)}
          </tbody>
        </table>
        <More shown={creds.length} total={credsTotal} id="agent-credentials-more" api="GET /v1/agents/:id/credentials" />
        <p class="muted small">Create and revoke keys with <span class="mono">POST /v1/api-keys</span>, <span class="mono">kakunin credentials create|revoke</span>: a new secret is shown once, to the terminal that asked for it.</p>
      </Layout>,
    );
  });
}
